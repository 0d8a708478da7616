/**
 * Which matmul variants the tuner tries for a shape, in the order it tries them (the default first, so
 * that a budget cut always leaves the baseline measured). The list depends on the context's kernel
 * family and on the shape; every entry is checked against the Float64 reference before it is timed.
 *
 * - On GPUs (`tiled` preference): the tiled tiles, the vec4 ones where the shape is aligned, two
 *   direct ones (no barriers: they can win on tiny products), and split-K when the output fills few
 *   workgroups and K is long (the skinny products of an MLP step: dW with K = B, the first layer).
 * - On CPU implementations (`direct` preference): the direct blocks only (the tiled kernels run 3–10×
 *   slower there, so timing them would only spend the budget), `direct.subgroup` on a device with
 *   subgroups, and split-K when the output fills fewer than four workgroups.
 * Tiles much larger than the output (area over 4× that of C) are left out, except the default.
 */
import type { KernelPreference } from '../gpu/context.js';
import {
  MATMUL_VARIANTS,
  type MatmulProblem,
  type MatmulVariantName,
  type MatmulVariantSpec,
  matmulScratchBytes,
  matmulUnsupported,
} from '../kernels/matmul.js';

/** Split-K's partial products are capped at this many bytes. */
export const SPLIT_SCRATCH_BYTES = 64 * 1024 * 1024;

const GPU_VARIANTS: MatmulVariantName[] = [
  'tiled',
  'tiled.32x32',
  'tiled.32x16',
  'tiled.128x128',
  'vec4',
  'vec4.32x32',
  'vec4.128x128',
  'direct',
  'direct.8x4',
];
const CPU_VARIANTS: MatmulVariantName[] = [
  'direct',
  'direct.8x8',
  'direct.16x4',
  'direct.8x4',
  'direct.4x4',
  'direct.4x4.1x8',
  'direct.subgroup', // only with subgroups
];

/** Workgroups a variant dispatches for an output of rows × N. */
function workgroups(name: MatmulVariantName, rows: number, N: number): number {
  const { wg, block } = MATMUL_VARIANTS[name];
  return Math.ceil(rows / (wg[1] * block[0])) * Math.ceil(N / (wg[0] * block[1]));
}

function tileArea(name: MatmulVariantName): number {
  const { wg, block } = MATMUL_VARIANTS[name];
  return wg[0] * block[1] * wg[1] * block[0];
}

/** The variants to try for `problem` (unfused: db, when wanted, by its own dispatch), default first. */
export function matmulCandidates(
  problem: MatmulProblem,
  preference: KernelPreference,
  maxBindingBytes = Number.POSITIVE_INFINITY,
  /** Whether the device has the `subgroups` feature (`ctx.subgroups`), which `direct.subgroup` needs. */
  subgroups = false,
): string[] {
  const { M, N, K } = problem.args;
  const names = preference === 'direct' ? CPU_VARIANTS : GPU_VARIANTS;
  const out: string[] = [preference];
  for (const name of names) {
    if (name === preference) continue;
    if ((MATMUL_VARIANTS[name] as MatmulVariantSpec).subgroups && !subgroups) continue;
    if (matmulUnsupported(problem.args, name)) continue;
    if (tileArea(name) > 4 * M * N) continue;
    out.push(name);
  }
  const scratchOk = (variant: string) => {
    const bytes = matmulScratchBytes(problem.args, variant);
    return bytes <= SPLIT_SCRATCH_BYTES && bytes <= maxBindingBytes;
  };
  if (preference === 'direct') {
    if (K >= 64 && workgroups('direct', M, N) < 4) {
      for (const base of ['direct', 'direct.8x4'] as const) {
        for (const s of [2, 4]) if (K / s >= 16 && scratchOk(`${base}/k${s}`)) out.push(`${base}/k${s}`);
      }
    }
  } else if (K >= 256 && workgroups('tiled', M, N) <= 32) {
    for (const base of ['tiled', 'tiled.32x32'] as const) {
      for (const s of [2, 4, 8, 16]) if (K / s >= 64 && scratchOk(`${base}/k${s}`)) out.push(`${base}/k${s}`);
    }
  }
  return out;
}
