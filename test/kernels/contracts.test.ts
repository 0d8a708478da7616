/**
 * Every kernel wrapper's contract with its shader, checked on the CPU (no GPU): each wrapper's
 * description of a dispatch (`*Call`) is resolved against the WGSL it ships — binding names, the
 * uniform structs' fields, override constants, entry points — for every flag, variant, activation and
 * optimizer the engine can ask for. A wrapper that drifts from its shader fails here, not on a GPU.
 */
import { describe, expect, it } from 'vitest';
import { ACTIVATION, activationCall } from '../../src/kernels/activation.js';
import { AFFINE, affineCall } from '../../src/kernels/affine.js';
import { ARGMAX, argmaxCall } from '../../src/kernels/argmax.js';
import {
  BATCH_NORM,
  BATCH_NORM_TRAIN,
  batchNormBackwardCall,
  batchNormEvalCall,
  batchNormTrainCall,
} from '../../src/kernels/batch_norm.js';
import { BIAS_GRAD, biasGradCall } from '../../src/kernels/bias_grad.js';
import type { WorkgroupTarget } from '../../src/kernels/check.js';
import { DROPOUT, dropoutAdvanceCall, dropoutCall } from '../../src/kernels/dropout.js';
import { GATHER, gatherCall } from '../../src/kernels/gather.js';
import { Kernel } from '../../src/kernels/kernel.js';
import {
  LAYER_NORM,
  LAYER_NORM_BACKWARD,
  layerNormBackwardCall,
  layerNormCall,
  layerNormParamGradCall,
} from '../../src/kernels/layer_norm.js';
import {
  MATMUL,
  MATMUL_SPLITS,
  MATMUL_VARIANTS,
  matmulCall,
  matmulDispatches,
  matmulKernel,
  splittable,
} from '../../src/kernels/matmul.js';
import { METRICS, metricsCall, STATS_BYTES } from '../../src/kernels/metrics.js';
import { OPTIMIZER, optimizerCall } from '../../src/kernels/optimizer.js';
import { identifiersReachedFrom, packStruct, reflectWgsl } from '../../src/kernels/reflect.js';
import { REGRESSION, regressionCall } from '../../src/kernels/regression.js';
import { SIGMOID_BCE, sigmoidBceCall } from '../../src/kernels/sigmoid_bce.js';
import { SOFTMAX, softmaxCall } from '../../src/kernels/softmax.js';
import { SOFTMAX_XENT, softmaxXentCall } from '../../src/kernels/softmax_xent.js';
import { ACTIVATIONS } from '../../src/model/activations/index.js';
import { hyperOf, OPTIMIZERS, optimizerDefinition, resolveOptimizer } from '../../src/optim/index.js';
import { kernelAct } from '../helpers/activations.js';

/** A stand-in GPUBuffer: the wrappers only read its size (and usage). */
const buf = (bytes: number) => ({ size: bytes, usage: 0xffff }) as unknown as GPUBuffer;
const BIG = buf(1 << 24);
const targets: WorkgroupTarget[] = [
  { device: { limits: { maxComputeWorkgroupsPerDimension: 65535 } }, kernelPreference: 'tiled' },
  { device: { limits: { maxComputeWorkgroupsPerDimension: 65535 } }, kernelPreference: 'direct' },
];

describe('kernel contracts, resolved on the CPU', () => {
  it('matmul: both families, the three forms, every epilogue and activation', () => {
    for (const variant of ['tiled', 'direct'] as const) {
      for (const [transposeA, transposeB] of [
        [false, false],
        [false, true],
        [true, false],
      ] as const) {
        const base = { a: BIG, b: BIG, out: BIG, M: 13, N: 7, K: 5, transposeA, transposeB };
        MATMUL.resolve(matmulCall(base, variant));
        MATMUL.resolve(matmulCall({ ...base, bias: BIG }, variant));
        for (const a of ACTIVATIONS) {
          const activation = kernelAct(a);
          MATMUL.resolve(matmulCall({ ...base, bias: BIG, activation }, variant));
          MATMUL.resolve(matmulCall({ ...base, bias: BIG, activation, preActivation: BIG }, variant));
          MATMUL.resolve(matmulCall({ ...base, activation, mask: BIG }, variant));
        }
      }
    }
  });

  it('matmul: every variant (and split-K, and biasGrad where offered) with every epilogue and activation', async () => {
    const kernels = {
      matmul: await matmulKernel('matmul'),
      matmul_vec4: await matmulKernel('matmul_vec4'),
      matmul_subgroup: await matmulKernel('matmul_subgroup'),
    };
    const variants = Object.entries(MATMUL_VARIANTS).flatMap(([name, spec]) =>
      splittable(spec) ? [name, ...MATMUL_SPLITS.map((s) => `${name}/k${s}`)] : [name],
    );
    let calls = 0;
    const resolve = (args: Parameters<typeof matmulDispatches>[0], variant: string) => {
      for (const { shader, call } of matmulDispatches(args, variant, 'contract', BIG)) {
        const resolved = kernels[shader].resolve(call);
        expect(resolved.storage.size + resolved.uniforms.size).toBe(
          Object.values(call.bindings).filter(Boolean).length + 1,
        );
        calls++;
      }
    };
    for (const variant of variants) {
      for (const [transposeA, transposeB] of [
        [false, false],
        [false, true],
        [true, false],
      ] as const) {
        // Aligned for the vec4 kernels: N, K and M multiples of 4.
        const base = { a: BIG, b: BIG, out: BIG, M: 12, N: 8, K: 20, transposeA, transposeB };
        resolve(base, variant);
        resolve({ ...base, bias: BIG }, variant);
        for (const a of ACTIVATIONS) {
          const activation = kernelAct(a);
          resolve({ ...base, bias: BIG, activation }, variant);
          resolve({ ...base, bias: BIG, activation, preActivation: BIG }, variant);
          resolve({ ...base, activation, mask: BIG }, variant);
        }
        if (!variant.startsWith('vec4') && !(variant.startsWith('direct') && variant.includes('/'))) {
          resolve({ ...base, biasGrad: BIG }, variant);
        }
      }
    }
    expect(calls).toBeGreaterThan(1000);
  });

  it('activation: forward and backward for every activation', () => {
    for (const a of ACTIVATIONS) {
      const activation = kernelAct(a);
      ACTIVATION.resolve(
        activationCall({ activation, direction: 'forward', count: 9, input: BIG, output: BIG }, targets[0]!),
      );
      ACTIVATION.resolve(
        activationCall(
          { activation, direction: 'backward', count: 9, values: BIG, grad: BIG, output: BIG },
          targets[0]!,
        ),
      );
    }
  });

  it("affine: the in-place per-column scale and shift of a network's preprocessing", () => {
    for (const target of targets) AFFINE.resolve(affineCall({ values: BIG, coef: BIG, rows: 9, cols: 7 }, target));
  });

  it('the row kernels and the heads: both variants, labels and dense targets', () => {
    const head = { logits: BIG, rows: 9, cols: 100, batchSize: 9, gradLogits: BIG, lossRows: BIG, correctRows: BIG };
    for (const target of targets) {
      for (const variant of ['row', 'workgroup'] as const) {
        SOFTMAX.resolve(softmaxCall({ logits: BIG, rows: 9, cols: 100, probs: BIG, variant }, target));
        ARGMAX.resolve(argmaxCall({ logits: BIG, rows: 9, cols: 100, out: BIG, variant }, target));
        for (const weights of [undefined, BIG]) {
          SOFTMAX_XENT.resolve(softmaxXentCall({ ...head, labels: BIG, variant, weights }, target));
          SOFTMAX_XENT.resolve(softmaxXentCall({ ...head, targets: BIG, variant, weights }, target));
          SIGMOID_BCE.resolve(sigmoidBceCall({ ...head, targets: BIG, variant, weights }, target));
        }
      }
      for (const weights of [undefined, BIG]) {
        REGRESSION.resolve(regressionCall({ ...head, targets: BIG, loss: 'mse', weights }, target));
        REGRESSION.resolve(regressionCall({ ...head, targets: BIG, loss: 'huber', delta: 0.5, weights }, target));
      }
    }
  });

  it('the loss weights: bound only by the WEIGHTED form, at the binding loss_weights.wgsl reserves', () => {
    const head = { logits: BIG, rows: 9, cols: 10, batchSize: 9, gradLogits: BIG, lossRows: BIG, correctRows: BIG };
    const calls = [
      [SOFTMAX_XENT, softmaxXentCall({ ...head, labels: BIG, weights: BIG }, targets[1]!)],
      [SIGMOID_BCE, sigmoidBceCall({ ...head, targets: BIG, weights: BIG }, targets[1]!)],
      [REGRESSION, regressionCall({ ...head, targets: BIG, loss: 'mse', weights: BIG }, targets[1]!)],
    ] as const;
    for (const [kernel, call] of calls) {
      expect(call.flags?.WEIGHTED, kernel.name).toBe(true);
      expect(kernel.resolve(call).reflection.bindings.get('weights')?.binding, kernel.name).toBe(6);
      const plain = kernel.resolve({
        ...call,
        flags: { ...call.flags, WEIGHTED: false },
        bindings: { ...call.bindings, weights: undefined },
      });
      expect(plain.reflection.bindings.has('weights'), kernel.name).toBe(false);
    }
  });

  it('bias_grad, metrics and gather: every variant and flag', () => {
    for (const variant of ['tiled', 'direct'] as const) {
      BIAS_GRAD.resolve(biasGradCall({ grad: BIG, rows: 9, cols: 7, out: BIG }, variant));
      METRICS.resolve(
        metricsCall({ lossRows: BIG, correctRows: BIG, rows: 9, batchSize: 9, stats: buf(STATS_BYTES) }, variant),
      );
    }
    const common = { images: BIG, indices: BIG, rows: 9, n: 100, x: BIG };
    for (const cols of [784, 13]) {
      GATHER.resolve(gatherCall({ ...common, cols, source: 'u8', scale: 1 / 255, labels: BIG, y: BIG }, targets[0]!));
      GATHER.resolve(
        gatherCall({ ...common, cols, source: 'f32', denseTargets: BIG, targetCols: 3, yDense: BIG }, targets[0]!),
      );
      GATHER.resolve(gatherCall({ ...common, cols, source: 'f32' }, targets[0]!));
      GATHER.resolve(
        gatherCall(
          { ...common, cols, source: 'u8', scale: 1, labels: BIG, y: BIG, weights: BIG, yWeights: BIG },
          targets[0]!,
        ),
      );
      GATHER.resolve(
        gatherCall(
          {
            ...common,
            cols,
            source: 'f32',
            denseTargets: BIG,
            targetCols: 3,
            yDense: BIG,
            weights: BIG,
            yWeights: BIG,
          },
          targets[0]!,
        ),
      );
    }
  });

  it('the layers: dropout, LayerNorm and BatchNorm, forward and backward, every activation and flag', () => {
    for (const a of ACTIVATIONS) {
      const activation = kernelAct(a);
      const drop = { count: 100, p: 0.5, block: 1, random: BIG, output: BIG };
      DROPOUT.resolve(dropoutCall({ ...drop, direction: 'forward', input: BIG }, targets[0] as WorkgroupTarget));
      DROPOUT.resolve(
        dropoutCall(
          { ...drop, direction: 'backward', grad: BIG, activation, values: BIG },
          targets[0] as WorkgroupTarget,
        ),
      );
      for (const target of targets) {
        for (const variant of ['row', 'workgroup'] as const) {
          const ln = { rows: 9, cols: 70, input: BIG, gamma: BIG, variant };
          for (const [pre, stats] of [
            [undefined, undefined],
            [BIG, BIG],
            [undefined, BIG],
          ] as const) {
            LAYER_NORM.resolve(
              layerNormCall({ ...ln, beta: BIG, eps: 1e-5, activation, output: BIG, pre, stats }, target),
            );
          }
          LAYER_NORM_BACKWARD.resolve(
            layerNormBackwardCall(
              { ...ln, stats: BIG, grad: BIG, below: activation, values: BIG, inputGrad: BIG },
              target,
            ),
          );
        }
        const bn = { rows: 9, cols: 70, input: BIG, gamma: BIG, beta: BIG, eps: 1e-5, activation, output: BIG };
        BATCH_NORM.resolve(batchNormEvalCall({ ...bn, runningMean: BIG, runningVar: BIG }, target));
      }
      LAYER_NORM_BACKWARD.resolve(
        layerNormParamGradCall({
          rows: 9,
          cols: 70,
          input: BIG,
          stats: BIG,
          grad: BIG,
          gammaGrad: BIG,
          betaGrad: BIG,
          below: activation,
        }),
      );
      const bn = { rows: 9, cols: 70, input: BIG, gamma: BIG, beta: BIG, eps: 1e-5, activation, output: BIG };
      for (const pre of [undefined, BIG]) {
        BATCH_NORM_TRAIN.resolve(
          batchNormTrainCall({ ...bn, runningMean: BIG, runningVar: BIG, momentum: 0.1, pre, stats: BIG }),
        );
      }
      BATCH_NORM_TRAIN.resolve(
        batchNormBackwardCall({
          rows: 9,
          cols: 70,
          input: BIG,
          gamma: BIG,
          stats: BIG,
          grad: BIG,
          below: activation,
          values: BIG,
          inputGrad: BIG,
          gammaGrad: BIG,
          betaGrad: BIG,
        }),
      );
    }
    DROPOUT.resolve(dropoutAdvanceCall(BIG));
  });

  it("optimizer: every registered optimizer's module, state and uniform, vec4 and scalar", () => {
    for (const kind of OPTIMIZERS) {
      const def = optimizerDefinition(kind);
      const hyper = def.uniform(hyperOf(resolveOptimizer({ kind })), 1);
      const state = Object.fromEntries(def.state.map((n) => [n, BIG]));
      for (const count of [1000, 1001]) {
        const resolved = OPTIMIZER.resolve(
          optimizerCall(
            { update: def.module, params: BIG, grads: BIG, state, count, decayCount: 10 },
            hyper,
            targets[0]!,
          ),
        );
        // The state tensors the definition names are the module's bindings, in the order it binds them.
        const bound = def.state.map((n) => resolved.reflection.bindings.get(n)?.binding);
        expect(bound.every((b) => b !== undefined)).toBe(true);
        expect([...bound].sort()).toEqual(bound);
      }
    }
  });
});

describe('a contract that does not match its shader fails on the CPU', () => {
  const call = (extra: object) => ({
    ...matmulCall({ a: BIG, b: BIG, out: BIG, M: 2, N: 2, K: 2 }, 'tiled'),
    ...extra,
  });

  it('names the unknown binding, the missing one, the unknown field and the unknown constant', () => {
    const good = call({});
    expect(() => MATMUL.resolve({ ...good, bindings: { ...good.bindings, Bias: BIG } })).toThrow(
      /the shader has no binding Bias \(it has dims, A, B, C, bias, mask, db\)/,
    );
    expect(() => MATMUL.resolve({ ...good, bindings: { A: BIG, B: BIG } })).toThrow(
      /binding C is used by entry point matmul but not given/,
    );
    expect(() => MATMUL.resolve({ ...good, uniforms: { dims: { M: 2, N: 2 } } })).toThrow(/field K \(u32\) is not set/);
    expect(() => MATMUL.resolve({ ...good, uniforms: { dims: { M: 2, N: 2, K: 2, L: 1 } } })).toThrow(/has no field L/);
    expect(() => MATMUL.resolve({ ...good, constants: { ...good.constants, TILE_Q: 4 } })).toThrow(
      /no override constant TILE_Q/,
    );
    expect(() => MATMUL.resolve({ ...good, entryPoint: 'matmul_fast' })).toThrow(/no entry point matmul_fast/);
  });

  it('refuses a binding the entry point does not use, and packs fields at their offsets', () => {
    const shader = new Kernel(
      'example',
      `struct Dims { a: u32, pad: u32, b: f32, c: i32, d: u32 }
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
fn helper(i: u32) -> f32 { return x[i] * dims.b; }
@compute @workgroup_size(1) fn main() { y[0] = helper(dims.a); }
@compute @workgroup_size(1) fn other() { y[0] = 1.0; }`,
    );
    const resolved = shader.resolve({
      label: 'example',
      entryPoint: 'main',
      bindings: { x: BIG, y: BIG },
      uniforms: { dims: { a: 3, b: 0.5, c: -2, d: 7 } },
      workgroups: [1],
    });
    const words = resolved.uniforms.get(0)?.words as Uint32Array;
    expect(words.length).toBe(8); // 5 fields, rounded up to 16 bytes
    expect(words[0]).toBe(3);
    expect(new Float32Array(words.buffer)[2]).toBe(0.5);
    expect(new Int32Array(words.buffer)[3]).toBe(-2);
    expect(words[4]).toBe(7);
    expect(() =>
      shader.resolve({ label: 'example', entryPoint: 'other', bindings: { x: BIG, y: BIG }, workgroups: [1] }),
    ).toThrow(/x is not used by entry point other/);
    expect([...identifiersReachedFrom('fn f() { g(); } fn g() { q = 1; } fn h() { r = 2; }', 'f')]).toContain('q');
    expect(() => packStruct(reflectWgsl('struct S { a: u32 }').structs.get('S')!, { a: -1 }, 's')).toThrow(
      /a = -1 does not fit a u32/,
    );
  });
});
