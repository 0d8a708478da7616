/**
 * LayerNorm and BatchNorm1d as PyTorch defines them: their Float64 twins against torch in float64
 * (to 1e-12) and their GPU kernels against torch (to fp32), forward and backward, from
 * PyTorch's own numbers in test/torch/fixtures.json (test/torch/fixtures.py: torch.nn.functional.layer_norm,
 * torch.nn.BatchNorm1d in train then eval mode, gradients by autograd of L = Σ y·dy).
 * Dropout: PyTorch draws its masks from its own generator, so only the map given a mask can agree:
 * torch.nn.Dropout's mask is read off its output (no input is 0), and our twin's forward and backward
 * with that mask, and the layer definition's evaluation, are compared with torch's (in float64 to the bit).
 * That the GPU draws exactly the twin's masks is test/kernels/dropout.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prepareBatchNormBackward, prepareBatchNormEval, prepareBatchNormTrain } from '../../src/kernels/batch_norm.js';
import { prepareLayerNorm, prepareLayerNormBackward } from '../../src/kernels/layer_norm.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { LAYER_REGISTRY, networkLayers } from '../../src/model/layers/index.js';
import { resolveSpec } from '../../src/model/spec.js';
import { batchNormBackwardRef, batchNormEvalRef, batchNormForwardRef } from '../../src/reference/batch_norm.js';
import { dropoutBackwardRef, dropoutForwardRef } from '../../src/reference/dropout.js';
import { layerNormBackwardRef, layerNormForwardRef } from '../../src/reference/layer_norm.js';
import { kernelAct } from '../helpers/activations.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, useGpuContext, withValidation } from '../helpers/gpu.js';

const gpu = useGpuContext();

type Values = Record<string, number[]>;
interface NormCase {
  name: string;
  rows: number;
  cols: number;
  eps: number;
  momentum?: number;
  x: number[];
  gamma: number[];
  beta: number[];
  dy: number[];
  runningMean?: number[];
  runningVar?: number[];
  f64: Values;
  f32: Values;
}

interface DropoutCase {
  name: string;
  rows: number;
  cols: number;
  p: number;
  x: number[];
  dy: number[];
  f64: Values;
  f32: Values;
}

const FIXTURES = JSON.parse(readFileSync(new URL('../torch/fixtures.json', import.meta.url), 'utf8')) as {
  layerNorm: NormCase[];
  batchNorm: NormCase[];
  dropout: DropoutCase[];
};

// Float64 against torch in float64: the same formulas, summed in another order: a few ulp.
const F64 = { atol: 1e-12, rtol: 1e-12 };
// The kernels against torch's definition (its float64 numbers): f32 sums of ≤ 65 terms and a division by the
// standard deviation, ~1e-6 of O(1) values. (Against torch's own float32 they differ by up to 2e-5 on one
// column, where torch's fused y = x·(γρ) + (β − μγρ) cancels with ρ = 1/√ε ≈ 316 and ours, γ·((x − μ)·ρ) + β, is exact.)
const F32 = { atol: 1e-5, rtol: 1e-5 };

/** The worst absolute difference, for the report. */
const worst = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Math.max(...Array.from(a, (v, i) => Math.abs(v - (b[i] as number))));

describe("LayerNorm against PyTorch's torch.nn.functional.layer_norm", () => {
  it('the Float64 twin: y, dx, dγ, dβ within 1e-12 of torch in float64', () => {
    let w = 0;
    for (const c of FIXTURES.layerNorm) {
      const y = new Float64Array(c.rows * c.cols);
      const stats = layerNormForwardRef(c.x, c.gamma, c.beta, c.rows, c.cols, c.eps, y);
      const out = {
        dgamma: new Float64Array(c.cols),
        dbeta: new Float64Array(c.cols),
        dx: new Float64Array(c.x.length),
      };
      layerNormBackwardRef(c.x, c.gamma, stats, c.dy, c.rows, c.cols, out);
      for (const [key, got] of [
        ['y', y],
        ['dx', out.dx],
        ['dgamma', out.dgamma],
        ['dbeta', out.dbeta],
      ] as const) {
        expectClose(got, c.f64[key] as number[], F64, `${c.name} ${key}`);
        w = Math.max(w, worst(got, c.f64[key] as number[]));
      }
    }
    console.log(`LayerNorm Float64 twin vs torch float64: largest difference ${w.toExponential(2)}`);
  });

  it('the GPU kernels (both variants): y, dx, dγ, dβ within fp32 of torch (its float64 numbers)', async () => {
    const ctx = gpu();
    let w = 0;
    for (const variant of ['row', 'workgroup'] as const) {
      for (const c of FIXTURES.layerNorm) {
        const scope = new OpScope(ctx);
        const n = c.rows * c.cols;
        const got = await withValidation(ctx, async () => {
          const input = upload(ctx, 'x', c.x);
          const gamma = upload(ctx, 'g', c.gamma);
          const [y, stats, dx, dg, db] = [n, 2 * c.rows, n, c.cols, c.cols].map((k, i) =>
            emptyF32(ctx, `o${i}`, k),
          ) as GPUBuffer[];
          const common = { rows: c.rows, cols: c.cols, input, gamma, variant };
          const ops = [
            await prepareLayerNorm(ctx, scope, {
              ...common,
              beta: upload(ctx, 'b', c.beta),
              eps: c.eps,
              activation: kernelAct('linear'),
              output: y as GPUBuffer,
              stats,
            }),
            ...(await prepareLayerNormBackward(ctx, scope, {
              ...common,
              stats: stats as GPUBuffer,
              grad: upload(ctx, 'dy', c.dy),
              below: kernelAct('linear'),
              values: input,
              inputGrad: dx as GPUBuffer,
              gammaGrad: dg as GPUBuffer,
              betaGrad: db as GPUBuffer,
            })),
          ];
          submitOps(ctx, ops);
          return Promise.all([y, dx, dg, db].map((b) => ctx.readF32(b as GPUBuffer)));
        });
        scope.destroy();
        (['y', 'dx', 'dgamma', 'dbeta'] as const).forEach((key, i) => {
          expectClose(got[i] as Float32Array, c.f64[key] as number[], F32, `${variant} ${c.name} ${key}`);
          w = Math.max(w, worst(got[i] as Float32Array, c.f64[key] as number[]));
        });
      }
    }
    console.log(`LayerNorm GPU vs torch (float64): largest difference ${w.toExponential(2)}`);
  });
});

describe("BatchNorm1d against PyTorch's torch.nn.BatchNorm1d (a training step, then evaluation)", () => {
  const KEYS = ['y', 'dx', 'dgamma', 'dbeta', 'runningMean', 'runningVar', 'yEval'] as const;

  it('the Float64 twin: y, the running statistics, dx, dγ, dβ and the evaluation y within 1e-12 of torch in float64', () => {
    let w = 0;
    for (const c of FIXTURES.batchNorm) {
      const y = new Float64Array(c.rows * c.cols);
      const running = {
        mean: Float64Array.from(c.runningMean as number[]),
        var: Float64Array.from(c.runningVar as number[]),
      };
      const f = batchNormForwardRef(c.x, c.gamma, c.beta, c.rows, c.cols, c.eps, c.momentum as number, running, y);
      const out = {
        dgamma: new Float64Array(c.cols),
        dbeta: new Float64Array(c.cols),
        dx: new Float64Array(c.x.length),
      };
      batchNormBackwardRef(c.x, c.gamma, f, c.dy, c.rows, c.cols, out);
      const yEval = new Float64Array(c.rows * c.cols);
      batchNormEvalRef(c.x, c.gamma, c.beta, c.rows, c.cols, c.eps, f.running, yEval);
      const ours = {
        y,
        dx: out.dx,
        dgamma: out.dgamma,
        dbeta: out.dbeta,
        runningMean: f.running.mean,
        runningVar: f.running.var,
        yEval,
      };
      for (const key of KEYS) {
        expectClose(ours[key], c.f64[key] as number[], F64, `${c.name} ${key}`);
        w = Math.max(w, worst(ours[key], c.f64[key] as number[]));
      }
    }
    console.log(`BatchNorm Float64 twin vs torch float64: largest difference ${w.toExponential(2)}`);
  });

  it('the GPU kernels: the same, within fp32 of torch (its float64 numbers)', async () => {
    const ctx = gpu();
    let w = 0;
    for (const c of FIXTURES.batchNorm) {
      const scope = new OpScope(ctx);
      const n = c.rows * c.cols;
      const got = await withValidation(ctx, async () => {
        const input = upload(ctx, 'x', c.x);
        const gamma = upload(ctx, 'g', c.gamma);
        const beta = upload(ctx, 'b', c.beta);
        const runningMean = upload(ctx, 'm', c.runningMean as number[]);
        const runningVar = upload(ctx, 'v', c.runningVar as number[]);
        const [y, stats, dx, dg, db, yEval] = [n, 2 * c.cols, n, c.cols, c.cols, n].map((k, i) =>
          emptyF32(ctx, `o${i}`, k),
        ) as GPUBuffer[];
        const common = {
          rows: c.rows,
          cols: c.cols,
          input,
          gamma,
          beta,
          eps: c.eps,
          activation: kernelAct('linear'),
          runningMean,
          runningVar,
        };
        const ops = [
          await prepareBatchNormTrain(ctx, scope, {
            ...common,
            output: y as GPUBuffer,
            stats: stats as GPUBuffer,
            momentum: c.momentum as number,
          }),
          await prepareBatchNormBackward(ctx, scope, {
            rows: c.rows,
            cols: c.cols,
            input,
            gamma,
            stats: stats as GPUBuffer,
            grad: upload(ctx, 'dy', c.dy),
            below: kernelAct('linear'),
            values: input,
            inputGrad: dx as GPUBuffer,
            gammaGrad: dg as GPUBuffer,
            betaGrad: db as GPUBuffer,
          }),
          await prepareBatchNormEval(ctx, scope, { ...common, output: yEval as GPUBuffer }),
        ];
        submitOps(ctx, ops);
        return Promise.all([y, dx, dg, db, runningMean, runningVar, yEval].map((b) => ctx.readF32(b as GPUBuffer)));
      });
      scope.destroy();
      KEYS.forEach((key, i) => {
        expectClose(got[i] as Float32Array, c.f64[key] as number[], F32, `${c.name} ${key}`);
        w = Math.max(w, worst(got[i] as Float32Array, c.f64[key] as number[]));
      });
    }
    console.log(`BatchNorm GPU vs torch (float64): largest difference ${w.toExponential(2)}`);
  });
});

describe("Dropout against PyTorch's torch.nn.Dropout (training with torch's mask, then evaluation)", () => {
  it('the twin with the mask torch drew: y and dx the same bits as torch in float64, within fp32 of its float32; evaluation the identity', () => {
    for (const c of FIXTURES.dropout) {
      const n = c.rows * c.cols;
      for (const key of ['f64', 'f32'] as const) {
        const t = c[key];
        const mask = Uint8Array.from(t.y as number[], (v) => (v !== 0 ? 1 : 0));
        const kept = mask.reduce((s, v) => s + v, 0);
        expect(kept, `${c.name}: some kept, some dropped`).toBeGreaterThan(0);
        expect(kept, `${c.name}: some kept, some dropped`).toBeLessThan(n);
        const y = new Float64Array(n);
        const dx = new Float64Array(n);
        dropoutForwardRef(c.x, mask, c.p, y);
        dropoutBackwardRef(c.dy, mask, c.p, dx);
        if (key === 'f64') {
          // the same bits, but for the sign of a dropped unit's 0 (torch's x·0 is −0 where x < 0; ours +0)
          const bits = (v: ArrayLike<number>) => Array.from(v, (u) => u + 0);
          expect(bits(y), `${c.name} y`).toEqual(bits(t.y as number[]));
          expect(bits(dx), `${c.name} dx`).toEqual(bits(t.dx as number[]));
        } else {
          expectClose(y, t.y as number[], { atol: 1e-6, rtol: 1e-6 }, `${c.name} y (float32)`);
          expectClose(dx, t.dx as number[], { atol: 1e-6, rtol: 1e-6 }, `${c.name} dx (float32)`);
        }
      }
      // evaluation: the layer definition's forward is the identity, as torch's eval() is
      const layer = networkLayers(resolveSpec({ layers: [c.cols, { units: c.cols, dropout: c.p }, 2] })).find(
        (l) => l.kind === 'dropout',
      );
      if (!layer) throw new Error('no dropout layer in the walker list');
      const { output } = LAYER_REGISTRY.dropout.forwardRef({
        layer,
        batch: c.rows,
        mode: 'eval',
        input: Float64Array.from(c.x),
        tensors: {},
        running: {},
      });
      expect(Array.from(output), `${c.name} evaluation`).toEqual(c.f64.yEval);
    }
  });
});
