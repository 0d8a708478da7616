/**
 * matmul: C[M,N] = op(A)·op(B) with fused epilogues (shaders/matmul.wgsl, shaders/matmul_vec4.wgsl,
 * seeds 001, 002, 004). Float64 twin: `matmulRef`.
 *
 * One product, several kernels ("variants"), every one checked against the reference on the same
 * awkward shapes (test/kernels/matmul.test.ts) and resolvable on the CPU (test/kernels/contracts.test.ts):
 * - `tiled` (GPUs, the default there): 64×64 tiles in workgroup memory, 4×4 outputs per invocation;
 *   `tiled.32x32`, `tiled.32x16` (few columns, e.g. 10 classes), `tiled.128x128` (8×8 per invocation);
 * - `vec4`, `vec4.32x32`, `vec4.128x128`: the same with vec4 loads and stores, for aligned shapes only;
 * - `direct` (CPU implementations such as SwiftShader, the family there): no workgroup memory, 16×8
 *   outputs per invocation; `direct.8x8`, `direct.16x4`, `direct.8x4`, `direct.4x4`: smaller blocks;
 *   `direct.4x4.1x8`: 4×4 blocks in workgroups of 1×8 invocations (the quick kernel); `direct.subgroup`
 *   (shaders/matmul_subgroup.wgsl, devices with subgroups): 16×16 per subgroup of 4 lanes that share the
 *   rows of op(A) they load. Untuned products start on the quick kernel and move to `direct.subgroup`,
 *   or `direct.8x8` without subgroups (matmulUpgradeVariant);
 * - any tiled or direct variant with `/k<S>` appended (`tiled/k4`): split-K in S slices, a second
 *   dispatch adding the slices' partial products in a fixed order (deterministic);
 * and, for dW = Aᵀ·G, `biasGrad`: db = Σ_rows G from the same dispatch (tiled and direct variants).
 * src/tune/ times them on the adapter and picks one per shape.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import linearModule from '../../shaders/activations/linear.wgsl?raw';
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/matmul.wgsl?raw';
import type { GpuContext, KernelPreference } from '../gpu/context.js';
import type { ScalarActivation } from '../reference/activation.js';
import type { KernelActivation } from './act.js';
import { checkBuffer, grid2d } from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

export interface MatmulArgs {
  /** op(A) is M×K: A is [M,K], or [K,M] with transposeA. */
  a: BufferRef;
  /** op(B) is K×N: B is [K,N], or [N,K] with transposeB. */
  b: BufferRef;
  /** C: [M,N], written. */
  out: BufferRef;
  M: number;
  N: number;
  K: number;
  transposeA?: boolean;
  transposeB?: boolean;
  /** [N]: C = op(A)·op(B) + bias, then the activation (a dense layer's forward pass). */
  bias?: BufferRef;
  /**
   * Forward (no `mask`): C = act(op(A)·op(B) [+ bias]). Backward (with `mask`): C = op(A)·op(B) ⊙ act'(mask).
   * Default: none (linear).
   */
  activation?: KernelActivation;
  /** [M,N]: the values act' is read from — the activation's output or input, as it declares. */
  mask?: BufferRef;
  /** [M,N], written: Z = op(A)·op(B) + bias before the activation (activations whose act' needs Z). */
  preActivation?: BufferRef;
  /**
   * [N], written: the column sums of op(B), Σ_k op(B)[k,n] — a layer's db beside dW = Aᵀ·G — from the
   * same dispatch: tiled variants give op(A) an extra row of ones; direct ones sum op(B)'s columns as
   * bias_grad_direct does (the same bits), on the forward's pipeline, and not with split-K. No other
   * epilogue.
   */
  biasGrad?: BufferRef;
  /**
   * The kernel: a name from {@link MATMUL_VARIANTS}, optionally with `/k<S>` for split-K in S slices.
   * `'tiled'` stages tiles in workgroup memory (GPUs); `'direct'` reads global memory with no workgroup
   * memory or barriers (CPU implementations such as SwiftShader). Default: `ctx.kernelPreference`.
   */
  variant?: MatmulVariant;
}

/** Which matmul kernel: see MatmulArgs.variant. `'tiled'` and `'direct'` are the untuned defaults. */
export type MatmulVariant = KernelPreference | (string & {});

/** What a kernel is built from. */
export type MatmulFamily = 'tiled' | 'vec4' | 'direct';

export interface MatmulVariantSpec {
  readonly family: MatmulFamily;
  /** Invocations per workgroup: x (columns) × y (rows). */
  readonly wg: readonly [number, number];
  /** Outputs of C per invocation: rows × columns. */
  readonly block: readonly [number, number];
  /** K-slice staged in workgroup memory between barriers (tiled, vec4). */
  readonly tileK?: number;
  /**
   * One subgroup of 4 invocations per workgroup, sharing loads by subgroupShuffle (matmul_subgroup.wgsl):
   * only on a device with the `subgroups` feature (`ctx.subgroups`); no split-K.
   */
  readonly subgroups?: boolean;
}

/**
 * Every matmul kernel by name (docs/tuning.md says what each is for). Tile = wg × block: `tiled` is
 * 16×16 invocations × 4×4 outputs = 64×64. Names are stable: tuning caches and reports store them.
 */
export const MATMUL_VARIANTS = {
  tiled: { family: 'tiled', wg: [16, 16], block: [4, 4], tileK: 16 }, // the GPU default
  'tiled.32x32': { family: 'tiled', wg: [8, 8], block: [4, 4], tileK: 16 },
  'tiled.32x16': { family: 'tiled', wg: [8, 16], block: [2, 2], tileK: 16 }, // few columns (N ≈ 10)
  'tiled.128x128': { family: 'tiled', wg: [16, 16], block: [8, 8], tileK: 8 },
  vec4: { family: 'vec4', wg: [16, 16], block: [4, 4], tileK: 16 }, // aligned shapes only
  'vec4.32x32': { family: 'vec4', wg: [8, 8], block: [4, 4], tileK: 16 },
  'vec4.128x128': { family: 'vec4', wg: [16, 16], block: [8, 8], tileK: 8 },
  direct: { family: 'direct', wg: [4, 4], block: [16, 8] }, // the default on CPU implementations
  'direct.8x8': { family: 'direct', wg: [4, 4], block: [8, 8] },
  'direct.16x4': { family: 'direct', wg: [4, 4], block: [16, 4] },
  'direct.8x4': { family: 'direct', wg: [4, 4], block: [8, 4] },
  'direct.4x4': { family: 'direct', wg: [4, 4], block: [4, 4] },
  // The quick kernel (MATMUL_QUICK_VARIANT): 4×4 blocks, a workgroup of 8 row blocks in one column of
  // blocks. SwiftShader runs 4 consecutive invocations (x fastest) as the lanes of one SIMD register, so
  // a 4×4 workgroup leaves 3 of 4 lanes idle when C has ≤ 4 columns (an output layer of 2 or 3 classes,
  // its dW); 1×8 fills the lanes with rows instead: 2–2.5× faster there, as fast elsewhere.
  'direct.4x4.1x8': { family: 'direct', wg: [1, 8], block: [4, 4] },
  // 16×16 per workgroup of one subgroup: lane l computes rows 0–15 × columns l, l + 4, l + 8, l + 12.
  'direct.subgroup': { family: 'direct', wg: [4, 1], block: [16, 4], subgroups: true },
} as const satisfies Record<string, MatmulVariantSpec>;

export type MatmulVariantName = keyof typeof MATMUL_VARIANTS;

/** The tiled kernel's default shape (kept for callers that size work by it). */
export const MATMUL_WG = { x: 16, y: 16, k: 16, rows: 4, cols: 4 } as const;
/** The direct kernel's default shape. */
export const MATMUL_DIRECT_WG = { x: 4, y: 4, rows: 16, cols: 8 } as const;
/** Invocations per workgroup of split-K's reduction pass. */
export const MATMUL_REDUCE_WG = 64;
/** Split-K slice counts a variant name may carry (`/k2` … `/k16`). */
export const MATMUL_SPLITS = [2, 4, 8, 16] as const;

export const MATMUL = /* @__PURE__ */ new Kernel('matmul', source);

/**
 * The kernel of a dispatch: matmul.wgsl, or one loaded on first use: matmul_vec4.wgsl (only tuned plans
 * run it), matmul_subgroup.wgsl (only devices with subgroups).
 */
export async function matmulKernel(shader: MatmulDispatch['shader']): Promise<Kernel> {
  if (shader === 'matmul') return MATMUL;
  if (shader === 'matmul_subgroup') return (await import('./matmul_subgroup.js')).MATMUL_SUBGROUP;
  return (await import('./matmul_vec4.js')).MATMUL_VEC4;
}

/** dims.epilogue bits of matmul.wgsl. */
const EPI_BIAS = 1;
const EPI_ACTIVATE = 2;
const EPI_MASK = 4;
const EPI_DB = 8;

const LINEAR: KernelActivation = {
  name: 'activations/linear',
  source: linearModule,
  constants: {},
  gradFrom: 'output',
};

/** A variant name taken apart: its kernel and its split-K slice count (1: none). */
export interface ParsedVariant {
  name: string;
  base: MatmulVariantName;
  spec: MatmulVariantSpec;
  splits: number;
}

/** Parses `tiled`, `direct.8x4/k4`…; throws with the list of names on anything else. */
export function parseMatmulVariant(variant: string, label = 'matmul'): ParsedVariant {
  const [base, split, extra] = String(variant).split('/');
  const spec = (MATMUL_VARIANTS as Record<string, MatmulVariantSpec>)[base as string];
  const splits = split === undefined ? 1 : Number(split.slice(1));
  const known = split === undefined || (split.startsWith('k') && (MATMUL_SPLITS as readonly number[]).includes(splits));
  if (!spec || !known || extra !== undefined || (splits > 1 && !splittable(spec))) {
    throw new Error(
      `${label}: variant = '${String(variant)}', expected one of ${Object.keys(MATMUL_VARIANTS).join(', ')}, a tiled or direct one optionally with /k${MATMUL_SPLITS.join('|')} (split-K)`,
    );
  }
  return { name: variant, base: base as MatmulVariantName, spec, splits };
}

/** Whether a variant has split-K forms (`/k<S>`): the tiled and direct ones but direct.subgroup. */
export function splittable(spec: MatmulVariantSpec): boolean {
  return spec.family !== 'vec4' && !spec.subgroups;
}

/**
 * Why `variant` cannot compute `args`, or undefined when it can: vec4 kernels need aligned shapes and
 * take no biasGrad, nor do direct ones with split-K; biasGrad excludes the other epilogues.
 */
export function matmulUnsupported(args: MatmulArgs, variant: string): string | undefined {
  const { spec, splits } = parseMatmulVariant(variant);
  if (spec.family === 'direct' && splits > 1 && args.biasGrad) return 'direct split-K kernels do not fuse biasGrad';
  if (spec.family !== 'vec4') return undefined;
  if (args.biasGrad) return 'vec4 kernels do not fuse biasGrad';
  const { M, N, K } = args;
  if (N % 4 !== 0) return `vec4 kernels need N % 4 = 0 (N = ${N})`;
  if (args.transposeA ? M % 4 !== 0 : K % 4 !== 0) {
    return `vec4 kernels need A's stored rows a multiple of 4 long (${args.transposeA ? `M = ${M}` : `K = ${K}`})`;
  }
  if (args.transposeB && K % 4 !== 0) return `vec4 kernels need B's stored rows a multiple of 4 long (K = ${K})`;
  return undefined;
}

/** The kernel slices of K (k_slice per slice, slices) of a split-K variant; K itself without split. */
export function matmulSlices(K: number, parsed: ParsedVariant): { kSlice: number; slices: number } {
  if (parsed.splits <= 1) return { kSlice: K, slices: 1 };
  const step = parsed.spec.tileK ?? 4; // whole staged slices per workgroup
  const kSlice = Math.ceil(Math.ceil(K / parsed.splits) / step) * step;
  return { kSlice, slices: Math.ceil(K / kSlice) };
}

/** Bytes of the partial products a split-K variant needs (0 without split). */
export function matmulScratchBytes(args: Pick<MatmulArgs, 'M' | 'N' | 'K' | 'biasGrad'>, variant: string): number {
  const parsed = parseMatmulVariant(variant);
  const { slices } = matmulSlices(args.K, parsed);
  return slices > 1 ? slices * (args.M + (args.biasGrad ? 1 : 0)) * args.N * 4 : 0;
}

/** One dispatch of a matmul: the shader it runs (see matmulKernel) and its call. */
export interface MatmulDispatch {
  shader: 'matmul' | 'matmul_vec4' | 'matmul_subgroup';
  call: KernelCall;
}

function checkArgs(args: MatmulArgs, label: string): void {
  const { M, N, K } = args;
  for (const [name, v] of [
    ['M', M],
    ['N', N],
    ['K', K],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${label}: ${name} = ${v}, expected a positive integer`);
  }
  if (args.mask && !args.activation) throw new Error(`${label}: a mask needs the activation whose derivative it reads`);
  if (args.mask && (args.bias || args.preActivation)) {
    throw new Error(`${label}: a mask (backward) cannot be combined with bias or preActivation (forward)`);
  }
  if (args.biasGrad && (args.bias || args.mask || args.preActivation || args.activation)) {
    throw new Error(`${label}: biasGrad (dW = Aᵀ·G with db) takes no bias, mask, preActivation or activation`);
  }
  const a = args.transposeA ? `f32 [${K}, ${M}]` : `f32 [${M}, ${K}]`;
  const b = args.transposeB ? `f32 [${N}, ${K}]` : `f32 [${K}, ${N}]`;
  checkBuffer(label, 'a', args.a, M * K * 4, a);
  checkBuffer(label, 'b', args.b, K * N * 4, b);
  checkBuffer(label, 'out', args.out, M * N * 4, `f32 [${M}, ${N}]`);
  if (args.bias) checkBuffer(label, 'bias', args.bias, N * 4, `f32 [${N}]`);
  if (args.mask) checkBuffer(label, 'mask', args.mask, M * N * 4, `f32 [${M}, ${N}]`);
  if (args.preActivation) checkBuffer(label, 'preActivation', args.preActivation, M * N * 4, `f32 [${M}, ${N}]`);
  if (args.biasGrad) checkBuffer(label, 'biasGrad', args.biasGrad, N * 4, `f32 [${N}]`);
}

/**
 * The dispatches a set of arguments describes for a variant (no GPU work: the contract tests resolve
 * them on the CPU): one, or two for split-K (the slices into `partial`, then their sum and the epilogue).
 * `maxPerDimension`: the device's workgroup limit per dimension (the reduction's grid wraps past it).
 */
export function matmulDispatches(
  args: MatmulArgs,
  variant: string,
  label = 'matmul',
  partial?: BufferRef,
  maxPerDimension = 65535,
  /**
   * The activation module compiled in when the epilogue is linear (EPI_ACTIVATE off, so it is never
   * called): another product's, so that both share one pipeline. Default: linear.wgsl.
   */
  host?: KernelActivation,
  /**
   * Makes what a direct kernel binds to `db` when it writes none (a writable binding may not alias C or
   * pre): a small buffer of the op's scope, asked for only then. Default: `out`, which only resolving
   * without a device accepts.
   */
  placeholder?: () => BufferRef,
): MatmulDispatch[] {
  checkArgs(args, label);
  const parsed = parseMatmulVariant(variant, label);
  const why = matmulUnsupported(args, variant);
  if (why) throw new Error(`${label}: variant '${variant}' cannot compute this: ${why}`);
  const { M, N, K } = args;
  const { spec } = parsed;
  const activation = args.activation ?? LINEAR;
  const direct = spec.family === 'direct';
  // db: the tiled kernel's extra row of ones (DB), or the direct kernel's column sums (EPI_DB).
  const rows = M + (args.biasGrad && !direct ? 1 : 0);
  const { kSlice, slices } = matmulSlices(K, parsed);
  const split = slices > 1;
  if (split) {
    if (!partial) throw new Error(`${label}: split-K variant '${variant}' needs its partial-products buffer`);
    checkBuffer(label, 'partial', partial, slices * rows * N * 4, `f32 [${slices}, ${rows}, ${N}]`);
  }
  const vec4 = spec.family === 'vec4';
  // matmul.wgsl takes the epilogue from dims.epilogue: a linear one runs on `host`'s module with
  // EPI_ACTIVATE off, so that every product of a network shares its pipeline (see prepareMatmul).
  const linear = !args.mask && (activation === LINEAR || activation.name === LINEAR.name);
  const module = vec4 || !linear ? activation : (host ?? LINEAR);
  const epilogue =
    (args.bias ? EPI_BIAS : 0) |
    (args.mask ? EPI_MASK : linear ? 0 : EPI_ACTIVATE) |
    (direct && args.biasGrad ? EPI_DB : 0);
  const flags: Record<string, boolean> = vec4
    ? { BIAS: args.bias !== undefined, MASK: args.mask !== undefined, PRE: args.preActivation !== undefined }
    : {
        PRE: args.preActivation !== undefined,
        SPLIT: split,
        DB: args.biasGrad !== undefined && !direct,
        WIDE: spec.family === 'tiled' && Math.max(...spec.block) > 4,
      };
  const [wgX, wgY] = spec.wg;
  const [blockRows, blockCols] = spec.block;
  const transposes = { TRANSPOSE_A: args.transposeA ? 1 : 0, TRANSPOSE_B: args.transposeB ? 1 : 0 };
  // matmul_subgroup compiles the mask's half of the epilogue apart from the rest (FORM_MASK = 1).
  const sizes: Record<string, number> = spec.subgroups
    ? { FORM: args.mask ? 1 : 0 }
    : direct
      ? { WG_X: wgX, WG_Y: wgY, DM: blockRows, DN: blockCols }
      : spec.family === 'vec4'
        ? { WG_X: wgX, WG_Y: wgY, TILE_K: spec.tileK ?? 16, RM: blockRows, CN: blockCols / 4, ...transposes }
        : { WG_X: wgX, WG_Y: wgY, TILE_K: spec.tileK ?? 16, RM: blockRows, RN: blockCols, ...transposes };
  const dims: Record<string, number> = vec4
    ? { M, N, K, k_slice: kSlice }
    : {
        M,
        N,
        K,
        k_slice: kSlice,
        trans_a: transposes.TRANSPOSE_A,
        trans_b: transposes.TRANSPOSE_B,
        epilogue,
        pad: 0,
      };
  // Without the flags, bias and mask are always bound: to A when the epilogue does not read them; the
  // direct product always binds db (the placeholder when it writes none).
  const unusedDb = direct && !args.biasGrad ? (placeholder?.() ?? args.out) : undefined;
  const epilogueBindings = vec4
    ? { bias: args.bias, mask: args.mask, pre: args.preActivation }
    : {
        bias: args.bias ?? args.a,
        mask: args.mask ?? args.a,
        pre: args.preActivation,
        db: args.biasGrad ?? (split ? undefined : unusedDb),
      };
  const product: KernelCall = {
    label: split ? `${label}.slices` : label,
    entryPoint: spec.subgroups
      ? 'matmul_subgroup'
      : direct
        ? 'matmul_direct'
        : spec.family === 'vec4'
          ? 'matmul_vec4'
          : 'matmul',
    flags,
    modules: [module],
    constants: { ...sizes, ...module.constants },
    uniforms: { dims },
    bindings: {
      A: args.a,
      B: args.b,
      ...(split ? { partial, db: unusedDb } : { C: args.out, ...epilogueBindings }),
    },
    workgroups: [Math.ceil(N / (wgX * blockCols)), Math.ceil(rows / (wgY * blockRows)), slices],
  };
  const shader = spec.subgroups ? 'matmul_subgroup' : spec.family === 'vec4' ? 'matmul_vec4' : 'matmul';
  if (!split) return [{ shader, call: product }];
  const reduce: KernelCall = {
    label: `${label}.reduce`,
    entryPoint: 'matmul_reduce',
    flags,
    modules: [module],
    constants: { REDUCE_WG: MATMUL_REDUCE_WG, ...module.constants },
    uniforms: { dims },
    bindings: { partial, C: args.out, ...epilogueBindings },
    workgroups: grid2d(Math.ceil((rows * N) / MATMUL_REDUCE_WG), maxPerDimension),
  };
  return [
    { shader, call: product },
    { shader, call: reduce },
  ];
}

/** The single dispatch of a variant without split-K (kept for callers and tests of one call). */
export function matmulCall(args: MatmulArgs, variant: MatmulVariant, label = 'matmul'): KernelCall {
  const [first, ...rest] = matmulDispatches(args, variant, label, undefined);
  if (rest.length) throw new Error(`${label}: variant '${variant}' has ${rest.length + 1} dispatches`);
  return first.call;
}

/**
 * The direct kernel prepared first when none is named: its 4×4 blocks compile in less time than the
 * larger blocks on SwiftShader (60–95 ms of CPU against ~170 ms for 8×8, on this 2-core machine), so
 * the first step starts early. Every direct variant adds each element's terms in the same order
 * (k = 0, 1, …, K − 1), so it computes the same bits as the others (test/kernels/matmul.test.ts).
 * Its 1×8 workgroups keep SwiftShader's SIMD lanes busy on outputs of few columns: per dispatch, on
 * the products of `[13,100,3]` B=133, 113 against 247 µs (133×3×100) and unchanged within noise on
 * the 100-column ones (docs/benchmarks.md has every block and workgroup shape measured).
 */
export const MATMUL_QUICK_VARIANT = 'direct.4x4.1x8';

/**
 * The kernel that untuned products on the direct family move to from the quick one, once it has
 * compiled behind the first steps ({@link matmulUpgrade}): 8×8 blocks, fewer loads per multiply-add
 * than the quick 4×4. It also beats the 16×8 default on every large product measured: quiet, on
 * SwiftShader, per dispatch, `[784,1024,1024,10]` B=1024's 1024×1024×1024 forward 551 against 623 ms,
 * its dW 520 against 592, its 1024×1024×784 forward 426 against 469 and 784×1024×1024 dW 402 against
 * 458 (dA with its mask 619 against 623); MNIST `[784,256,10]` B=128's 128×256×784 forward 14.0
 * against 15.0 ms and dW 13.0 against 15.7; `[64,100,10]` B=200's 200×100×64 forward 1.18 against
 * 1.34 ms (docs/benchmarks.md). All direct variants add each element's terms in the same order: the
 * same bits.
 */
export const MATMUL_UPGRADE_VARIANT = 'direct.8x8';

/**
 * What untuned products move to instead of {@link MATMUL_UPGRADE_VARIANT} on a device with subgroups
 * (`ctx.subgroups`): 16×16 per subgroup of 4 lanes sharing the rows of op(A) they load, half the loads
 * of 8×8 blocks. Quiet, on SwiftShader, per dispatch, against 8×8: `[64,100,10]` B=200's 200×100×64
 * forward 639–701 against 732–770 µs, its 64×100×200 dW 559–600 against 670–704, dA (200×100×10)
 * 202–209 against 223–247; `[30,100,2]`'s 200×100×30 forward 386 against 442; `[13,100,3]`'s 133×100×13
 * forward 182 against 205 (docs/benchmarks.md). The same bits as every direct variant.
 */
export const MATMUL_SUBGROUP_VARIANT = 'direct.subgroup';

/** The upgrade of a device: {@link MATMUL_SUBGROUP_VARIANT} with subgroups, else {@link MATMUL_UPGRADE_VARIANT}. */
export function matmulUpgradeVariant(subgroups: boolean): string {
  return subgroups ? MATMUL_SUBGROUP_VARIANT : MATMUL_UPGRADE_VARIANT;
}

/**
 * Products of at least this many multiply-adds (M·N·K) move to the device's upgrade
 * ({@link matmulUpgradeVariant}), where its larger blocks run up to 4× faster than the quick kernel's.
 */
export const MATMUL_UPGRADE_WORK = 2 ** 20;

/**
 * Mid-size products (at least this many multiply-adds, below {@link MATMUL_UPGRADE_WORK}) move too when
 * they have at least {@link MATMUL_MID_MIN} columns and terms (the first layer's forward pass and dW of
 * a table network, K = its features or the batch): quiet, on SwiftShader, `[30,100,2]` B=200's
 * 200×100×30 forward 0.72–0.74 against 0.92–1.17 ms and its 30×100×200 dW 0.39–0.45 against 0.70 ms
 * per dispatch. Smaller products gain less per step than the 8×8 pipeline's ~170 ms of compilation
 * costs a short fit; products with few columns or terms (an output layer, dA = G·Wᵀ with K = classes)
 * gain nothing, and keep the quick kernel.
 */
export const MATMUL_MID_WORK = 2 ** 18;
export const MATMUL_MID_MIN = 16;

/**
 * With subgroups, a product too small to repay a compilation moves to the subgroup kernel (once another
 * product on the device has: {@link upgradeCompiled}) from this many columns on: the quick kernel covers
 * 8 with two of its blocks of 4. Quiet, on SwiftShader, per dispatch, quick against subgroup:
 * `[64,100,10]` B=200's output layer (200×10×100) 226 against 185 µs, its dW (100×10×200) 228 against
 * 203; with 8 columns 160 against 203 (docs/benchmarks.md).
 */
export const MATMUL_SUBGROUP_MIN = 9;

/**
 * A training step of at least this many multiply-adds (about 3 × rows × parameters: the forward pass,
 * dW and dA) waits in its run's setup for its products' upgrades ({@link matmulUpgrade}) to compile
 * instead of starting on the quick kernel. Steps are encoded ahead of the GPU (several per submit,
 * short epochs pipelined), so every step encoded before the compile ends runs on the quick kernel
 * however late it executes: quiet, on SwiftShader, the race's MNIST `[784,256,10]` B=128 (78M per
 * step) trained 2 epochs in 2.96–3.01 s waiting against 3.44–3.48 s not, its setup 0.3 s longer; the
 * tables (at most 4.5M per step) gain nothing from waiting (docs/benchmarks.md).
 */
export const MATMUL_WAIT_WORK = 2 ** 25;

/**
 * The kernel an untuned product on the direct family moves to once compiled (on a device with
 * `subgroups` or without); undefined: it stays quick.
 */
export function matmulUpgrade(args: Pick<MatmulArgs, 'M' | 'N' | 'K'>, subgroups = false): string | undefined {
  const work = args.M * args.N * args.K;
  const mid = work >= MATMUL_MID_WORK && Math.min(args.N, args.K) >= MATMUL_MID_MIN;
  return mid || work >= MATMUL_UPGRADE_WORK ? matmulUpgradeVariant(subgroups) : undefined;
}

/**
 * Prepares the dispatch(es) of a product as one op (split-K: both passes, encoded in order). Without
 * `args.variant`, on a context whose default is the direct family, the op starts with the quick kernel
 * ({@link MATMUL_QUICK_VARIANT}) and, for a large or mid-size product ({@link matmulUpgrade}), switches
 * to the device's upgrade ({@link matmulUpgradeVariant}) when that has compiled (`ctx.compiled()` waits for it), computing
 * the same bits either way.
 */
export async function prepareMatmul(
  ctx: GpuContext,
  scope: OpScope,
  args: MatmulArgs,
  label = 'matmul',
): Promise<GpuOp> {
  const variant = args.variant ?? ctx.kernelPreference;
  if (args.variant !== undefined || variant !== 'direct') return prepareVariant(ctx, scope, args, variant, label);
  const quick = await prepareVariant(ctx, scope, args, MATMUL_QUICK_VARIANT, label);
  const own = matmulUpgrade(args, ctx.subgroups);
  const upgrade = own ?? (upgradeCompiled(ctx, args) ? matmulUpgradeVariant(ctx.subgroups) : undefined);
  if (upgrade === undefined) return quick;
  if (upgrade === MATMUL_SUBGROUP_VARIANT) subgroupDevices.add(ctx.device);
  let current = quick;
  // A product that follows others onto the kernel compiles its pipeline (if it must) after theirs, and
  // a large step's setup does not wait for it (gpu_trainer.ts).
  ctx.behind(async () => {
    current = await prepareVariant(ctx, scope, args, upgrade, label);
  }, own === undefined);
  return {
    label,
    encode(pass) {
      current.encode(pass);
    },
  };
}

/**
 * A product too small for its upgrade to repay a compilation ({@link matmulUpgrade}) still moves when
 * the device already has the upgrade's pipeline (another network on it, or another layer, compiled it)
 * and the product has at least {@link MATMUL_MID_MIN} columns: there 8×8 blocks are faster too. Quiet,
 * on SwiftShader, per dispatch, quick against 8×8: `[13,100,3]` B=133's forward 347 against 316 µs, its
 * dW 265 against 218, dA 243 against 197; `[10,100,2]` B=200's forward 420 against 375, dW 315 against
 * 294; spirals' 64×32×32 forward 116 against 72 (docs/benchmarks.md). With fewer columns the quick
 * kernel stays faster (`[13,100,3]`'s output layer: 99 against 237). The subgroup kernel's 16×16 blocks
 * take fewer columns ({@link MATMUL_SUBGROUP_MIN}), and move once any product on the device has moved
 * to it (usually a network's first layer, as it is prepared first): its pipelines are two, the forward
 * pass's epilogue and dA's mask (matmul_subgroup.wgsl's FORM), and the second is then worth compiling
 * too, since dA = G·Wᵀ (K = the classes) is where the quick kernel is slowest: `[13,100,3]` B=133's dA
 * 243 µs quick against 142–148 on the mask's pipeline.
 */
function upgradeCompiled(ctx: GpuContext, args: MatmulArgs): boolean {
  if (args.N < (ctx.subgroups ? MATMUL_SUBGROUP_MIN : MATMUL_MID_MIN)) return false;
  if (ctx.subgroups) return subgroupDevices.has(ctx.device);
  const limit = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  const [d] = matmulDispatches(args, MATMUL_UPGRADE_VARIANT, '', undefined, limit, hosts.get(ctx));
  return MATMUL.isCompiled(ctx, (d as MatmulDispatch).call);
}

/** Devices on which a product has moved to the subgroup kernel (upgradeCompiled). */
const subgroupDevices = new WeakSet<GPUDevice>();

/**
 * Per context, the activation module that products with a linear epilogue borrow (matmulDispatches'
 * `host`): the first forward activation prepared on it. The pipeline is then the same for every
 * product of a network with one hidden activation — four fewer compilations at setup.
 */
const hosts = new WeakMap<GpuContext, KernelActivation>();

async function prepareVariant(
  ctx: GpuContext,
  scope: OpScope,
  args: MatmulArgs,
  variant: MatmulVariant,
  label: string,
): Promise<GpuOp> {
  if (parseMatmulVariant(variant, label).spec.subgroups && !ctx.subgroups) {
    throw new Error(`${label}: variant '${variant}' needs a device with the 'subgroups' feature (this one has none)`);
  }
  const scratch = matmulScratchBytes(args, variant);
  const partial = scratch ? scope.storage(`${label}.partial`, scratch) : undefined;
  const activation = args.activation;
  if (activation && !args.mask && activation.name !== LINEAR.name && !hosts.has(ctx)) hosts.set(ctx, activation);
  const dispatches = matmulDispatches(
    args,
    variant,
    label,
    partial,
    ctx.device.limits.maxComputeWorkgroupsPerDimension,
    hosts.get(ctx),
    () => scope.placeholder(),
  );
  const ops = await Promise.all(
    dispatches.map(async (d) => (await matmulKernel(d.shader)).prepare(ctx, scope, d.call)),
  );
  if (ops.length === 1) return ops[0] as GpuOp;
  return {
    label,
    encode(pass) {
      for (const op of ops) op.encode(pass);
    },
  };
}

/**
 * A product a plan is about to prepare, as the tuner (src/tune/) sees it: the arguments (their
 * buffers are not read; the tuner measures on its own), the activation's Float64 twin to check the
 * epilogue, and whether the layer's db (Σ_k op(B)[k,n]) is wanted too, which `biasGrad` variants fuse.
 */
export interface MatmulProblem {
  args: MatmulArgs;
  activation?: ScalarActivation;
  biasGrad?: boolean;
}

/** A tuned choice: the variant, and whether it also computes db (`biasGrad`). */
export interface MatmulChoice {
  variant: string;
  fuseBiasGrad: boolean;
}

/** Chooses a variant for a problem; undefined keeps the context's default (and db as its own dispatch). */
export type MatmulChooser = (problem: MatmulProblem) => Promise<MatmulChoice | undefined>;
