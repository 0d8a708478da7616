/**
 * The tuner's work as figures (suite `tune`): for each matmul shape it met — the products of a tuned
 * step plan, and in the matmul suite the square sizes — every candidate variant with its time (as the
 * tuner measured it: its timing method, runs per sample, the median of its samples), its check against
 * the Float64 reference, and which one it picked. A candidate that failed its check is `failed` here
 * and was never picked; one the budget left out is `skipped`.
 */
import type { MatmulProblem } from '../src/kernels/matmul.js';
import { kernelActivation, scalarActivation } from '../src/model/activations/definition.js';
import { relu } from '../src/model/activations/relu.js';
import type { ShapeTuning } from '../src/tune/cache.js';
import { MatmulTuner, type TuneReport } from '../src/tune/tuner.js';
import type { MatmulShape } from './matmul.js';
import { MIN_RUNS } from './measure.js';
import { summarise } from './stats.js';
import type { BenchEnv } from './step.js';
import type { BenchFigure } from './types.js';

const RULE = '|gpu − ref| ≤ 1e-5·√K (+2e-6 with an activation) + 1e-5·|ref| (the tuner’s check)';

/** `tiled.128x128`, `direct+db` (db fused into dW). */
export function choiceName(variant: string, fused: boolean): string {
  return `${variant}${fused ? '+db' : ''}`;
}

/** The figures of one shape's tuning; `where` names its origin (`S`, `matmul`). */
export function shapeFigures(where: string, s: ShapeTuning, defaultVariant: string): BenchFigure[] {
  const base = `tune ${where} ${s.shape}`;
  const work = 2 * s.M * s.N * s.K;
  if (s.candidates.length === 0) {
    return [
      {
        suite: 'tune',
        name: `${base} · ${defaultVariant}`,
        params: { origin: where, shape: s.shape, M: s.M, N: s.N, K: s.K, variant: defaultVariant, picked: true },
        status: 'skipped',
        unit: 'GFLOP/s',
        work,
        verified: false,
        note: `not measured, the default kept: ${s.note ?? s.source}`,
      },
    ];
  }
  return s.candidates.map((c) => {
    const picked = c.variant === s.pick.variant && c.fuseBiasGrad === s.pick.fuseBiasGrad;
    const isDefault = c.variant === defaultVariant && !c.fuseBiasGrad;
    const f: BenchFigure = {
      suite: 'tune',
      name: `${base} · ${choiceName(c.variant, c.fuseBiasGrad)}`,
      params: {
        origin: where,
        shape: s.shape,
        M: s.M,
        N: s.N,
        K: s.K,
        variant: c.variant,
        fusedBiasGrad: c.fuseBiasGrad,
        default: isDefault,
        picked,
        source: s.source,
      },
      status: c.status,
      unit: 'GFLOP/s',
      work,
      verified: c.status === 'ok',
    };
    if (c.check) {
      f.check = {
        verified: c.status === 'ok',
        method: c.check,
        elements: c.elements ?? 0,
        measure: 'abs',
        maxError: c.maxError ?? 0,
        tolerance: RULE,
        worst: c.status === 'ok' ? 'within the tolerance' : (c.note ?? ''),
      };
    }
    if (c.status === 'ok' && c.ms !== undefined && c.samplesMs?.length) {
      const t = summarise(c.samplesMs);
      Object.assign(f, {
        timing: s.timing === 'timestamp' ? 'timestamp' : 'wall',
        iterations: c.reps ?? 1,
        samples: c.samplesMs.length,
        timeMs: t,
        value: work / (t.median * 1e6),
        best: work / (t.min * 1e6),
      });
    }
    const notes = [
      picked ? (isDefault ? 'picked (the default)' : 'PICKED') : isDefault ? 'the default' : '',
      c.status === 'ok' ? '' : (c.note ?? ''),
    ].filter((x) => x);
    if (notes.length) f.note = notes.join('; ');
    return f;
  });
}

/** Every shape of a plan's tuning report, each shape once (later repeats were cache hits). */
export function tuneFigures(where: string, report: TuneReport, defaultVariant: string): BenchFigure[] {
  const seen = new Set<string>();
  const figures: BenchFigure[] = [];
  for (const s of report.shapes) {
    if (seen.has(s.shape)) continue;
    seen.add(s.shape);
    figures.push(...shapeFigures(where, s, defaultVariant));
  }
  return figures;
}

/** The one-line summary of a plan's picks: `A·B 128×128×784 +bias +relu → direct.8x4; …`. */
export function picksLine(report: TuneReport): string {
  return report.shapes.map((s) => `${s.shape} → ${choiceName(s.pick.variant, s.pick.fuseBiasGrad)}`).join('; ');
}

const RELU = { definition: relu, params: {} };

/**
 * Tunes one matmul shape of the matmul suite (the square sizes, with its epilogue) with every
 * candidate, the figure budget as its budget, and returns its figures. Never throws.
 */
export async function runShapeTuning(env: BenchEnv, shape: MatmulShape): Promise<BenchFigure[]> {
  const { ctx, settings } = env;
  const { M, N, K } = shape;
  const work = 2 * M * N * K;
  const rate = env.rates.get('matmul');
  const where = 'matmul';
  const fake = { size: 2 ** 40, usage: 0 } as unknown as GPUBuffer;
  const epilogue = shape.epilogue ?? 'none';
  const problem: MatmulProblem = {
    args: {
      a: fake,
      b: fake,
      out: fake,
      M,
      N,
      K,
      transposeA: shape.form === 'Aᵀ·B',
      transposeB: shape.form === 'A·Bᵀ',
      bias: epilogue.startsWith('bias') ? fake : undefined,
      mask: epilogue.startsWith('mask') ? fake : undefined,
      activation: epilogue.endsWith('relu') ? kernelActivation(RELU) : undefined,
    },
    activation: epilogue.endsWith('relu') ? scalarActivation(RELU) : undefined,
  };
  // About ten candidates, each with a checked run, a calibration and three samples.
  if (rate !== undefined && (work / rate) * MIN_RUNS * 10 > settings.maxFigureS * 1000) {
    return [
      {
        suite: 'tune',
        name: `tune ${where} ${shape.form} ${M}×${N}×${K} · all`,
        params: { origin: where, M, N, K },
        status: 'skipped',
        unit: 'GFLOP/s',
        work,
        verified: false,
        note: `estimated over the ${settings.maxFigureS} s figure budget (--max-figure-s) at the rate of the matmul suite`,
      },
    ];
  }
  try {
    const tuner = await MatmulTuner.create(ctx, { mode: true, budgetMs: settings.maxFigureS * 1000 });
    await tuner.choose(problem);
    return tuneFigures(where, await tuner.finish(), ctx.kernelPreference);
  } catch (error) {
    return [
      {
        suite: 'tune',
        name: `tune ${where} ${shape.form} ${M}×${N}×${K} · all`,
        params: { origin: where, M, N, K },
        status: 'failed',
        unit: 'GFLOP/s',
        work,
        verified: false,
        note: `error: ${error instanceof Error ? error.message : String(error)}`,
      },
    ];
  }
}
