/**
 * The tuner's picks, cached per adapter and shape: one `TuneCache` per GpuContext (`tuneCacheOf`),
 * in memory, optionally mirrored to a persistent store (IndexedDB in a browser, see persist.ts). The
 * context itself knows nothing of tuning; the tuner (tuner.ts) is loaded only when a model asks for it.
 */
import { type MatmulChoice, type MatmulProblem, matmulUnsupported, parseMatmulVariant } from '../kernels/matmul.js';

/** One candidate's outcome on one shape, as the tuner measured it. */
export interface CandidateResult {
  /** A name from MATMUL_VARIANTS, with `/k<S>` for split-K. */
  variant: string;
  /** Whether it also computed db (biasGrad) in the same dispatch; unfused candidates of a dW shape are timed with the separate bias_grad dispatch. */
  fuseBiasGrad: boolean;
  /** `ok`: checked against the Float64 reference and timed; `failed`: wrong, or did not compile or validate (never picked); `skipped`: not run. */
  status: 'ok' | 'failed' | 'skipped';
  /** Median time of one run (all its dispatches), ms. */
  ms?: number;
  /** Every sample's time of one run, ms. */
  samplesMs?: number[];
  /** Runs per timed sample. */
  reps?: number;
  /** Largest |gpu − ref| of the check, whether every element or a sample was compared, and how many. */
  maxError?: number;
  check?: 'full' | 'sampled';
  elements?: number;
  note?: string;
}

/** What the tuner decided for one shape. */
export interface ShapeTuning {
  /** The shape as text, e.g. `A·B 128×128×784 +bias +relu` (the cache key without the adapter). */
  shape: string;
  M: number;
  N: number;
  K: number;
  candidates: CandidateResult[];
  /** The choice the plan uses: the fastest checked candidate when it beats the default by the margin, else the default. */
  pick: MatmulChoice;
  /** `measured` now; `cache` (measured earlier, or loaded from the store); `default` (nothing measured: budget, or mode 'cached'). */
  source: 'measured' | 'cache' | 'default';
  /** Time spent on this shape (compiling, checking, timing), ms. */
  ms: number;
  /** How candidates were timed: GPU timestamps, the wall clock, or a test's timer. */
  timing: string;
  /** Why nothing (or not everything) was measured, when so. */
  note?: string;
}

/**
 * Why a record of the cache (or of a store: a page's IndexedDB may hold anything) cannot be used, or
 * undefined when it can: it must be a ShapeTuning whose pick names a variant that exists and, given
 * the product it would be used for, can compute it (a vec4 kernel only on aligned shapes; db fused
 * only into a dW product that wants it).
 */
export function unusableTuning(record: unknown, problem?: MatmulProblem): string | undefined {
  const pick = (record as Partial<ShapeTuning> | null)?.pick as Partial<MatmulChoice> | undefined;
  if (typeof record !== 'object' || record === null || typeof pick !== 'object' || pick === null) {
    return 'it has no pick';
  }
  if (typeof pick.variant !== 'string') return 'its pick names no variant';
  if (typeof pick.fuseBiasGrad !== 'boolean') return "its pick's fuseBiasGrad is not true or false";
  try {
    parseMatmulVariant(pick.variant, 'its pick');
  } catch (error) {
    return (error as Error).message;
  }
  if (!problem) return undefined;
  const wantsDb = problem.biasGrad === true && !problem.args.transposeB;
  if (pick.fuseBiasGrad && !wantsDb) return 'its pick fuses db into a product that computes none';
  const biasGrad = pick.fuseBiasGrad ? (problem.args.biasGrad ?? problem.args.out) : undefined; // a db output, or none
  const why = matmulUnsupported({ ...problem.args, biasGrad }, pick.variant);
  return why && `its pick cannot compute this product: ${why}`;
}

/** Says that a saved pick was dropped, once per record: tuning never makes training fail (docs/tuning.md). */
export function noticeDropped(key: string, why: string): void {
  console.warn(
    `webgpu-mlp: a saved tuning record was unusable and is dropped (${key}: ${why}); the shape is measured again (tune: true) or keeps the default kernel (tune: 'cached')`,
  );
}

/** Somewhere picks survive the page: IndexedDB in a browser. Every method may fail; the cache then stays in memory. */
export interface TuneStore {
  load(): Promise<Record<string, ShapeTuning>>;
  save(entries: Record<string, ShapeTuning>): Promise<void>;
  clear(): Promise<void>;
}

/**
 * The picks by key (`<adapter>|<shape>|v<version>`). One per GpuContext (`tuneCacheOf(ctx)`); shared by
 * the models on that context.
 */
export class TuneCache {
  private readonly entries = new Map<string, ShapeTuning>();
  private loaded: Promise<void> | undefined;
  /**
   * Where picks persist. `undefined`: not decided yet (the tuner attaches IndexedDB where there is
   * one); `null`: memory only.
   */
  store: TuneStore | null | undefined;

  constructor(store?: TuneStore | null) {
    this.store = store;
  }

  get(key: string): ShapeTuning | undefined {
    return this.entries.get(key);
  }

  set(key: string, tuning: ShapeTuning): void {
    this.entries.set(key, tuning);
  }

  /** Forgets one pick (an unusable one: see unusableTuning). */
  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every cached key and tuning. */
  list(): [string, ShapeTuning][] {
    return [...this.entries];
  }

  /**
   * Reads the store once (later calls wait for the same read); a failing store leaves the cache in
   * memory only. A record that cannot be used (unusableTuning) is dropped with a notice, and the store
   * rewritten without it.
   */
  load(): Promise<void> {
    this.loaded ??= (async () => {
      let dropped = false;
      try {
        const saved: unknown = (await this.store?.load()) ?? {};
        const records = typeof saved === 'object' && saved !== null ? Object.entries(saved) : [];
        if (records.length === 0 && (typeof saved !== 'object' || saved === null)) dropped = true;
        for (const [key, tuning] of records) {
          const why = unusableTuning(tuning);
          if (why) {
            noticeDropped(key, why);
            dropped = true;
          } else if (!this.entries.has(key)) this.entries.set(key, tuning as ShapeTuning);
        }
      } catch {
        this.store = null;
      }
      if (dropped) await this.save();
    })();
    return this.loaded;
  }

  /** Writes every entry to the store (if any); a failure switches to memory only. */
  async save(): Promise<void> {
    if (!this.store) return;
    try {
      await this.store.save(Object.fromEntries(this.entries));
    } catch {
      this.store = null;
    }
  }

  /** Forgets every pick, here and in the store: the next tuned plan measures again. */
  async clear(): Promise<void> {
    this.entries.clear();
    try {
      await this.store?.clear();
    } catch {
      this.store = null;
    }
  }
}

/** The caches by context (any object standing for one: a GpuContext). */
const CACHES = new WeakMap<object, TuneCache>();

/**
 * The tune cache of a context, made on first use. `store` decides where its picks persist when it is
 * made (default: IndexedDB where there is one, attached by the tuner; `null`: memory only); given for
 * a context that has one already, it replaces that one's store.
 */
export function tuneCacheOf(ctx: object, store?: TuneStore | null): TuneCache {
  let cache = CACHES.get(ctx);
  if (!cache) {
    cache = new TuneCache(store);
    CACHES.set(ctx, cache);
  } else if (store !== undefined) {
    cache.store = store;
  }
  return cache;
}

/** Gives a context this cache (tests, or an application sharing picks between contexts). */
export function setTuneCache(ctx: object, cache: TuneCache): void {
  CACHES.set(ctx, cache);
}
