/**
 * Plans by key with a byte budget: an application may call `predict` or `evaluate` with any number of
 * rows, and each new row count needs a plan (its buffers and bind groups). Plans are kept while they
 * fit in the budget, least recently used first out; a plan in use (pinned by a running fit, evaluation
 * or prediction) is never evicted, nor the one just asked for, so a single plan larger than the budget
 * still works. A network's caches (its training and evaluation plans, its prediction plans) share one
 * budget (`PlanBudget`): least recently used across them goes first.
 *
 * What a plan counts is what it costs, not its buffers' bytes alone (`planCost`): a small plan's
 * bind groups, uniforms and the driver's bookkeeping cost far more than its bytes.
 *
 * Eviction destroys a plan's buffers at once; work already submitted with them is unaffected (WebGPU
 * keeps a destroyed buffer alive for commands already submitted), and an unpinned plan is never used
 * again after another plan was asked for.
 */

/** What the cache holds: anything that knows its size and can be destroyed. */
export interface CachedPlan {
  /** Bytes of its buffers. */
  readonly bytes: number;
  /** How many buffers it holds (uniforms included). */
  readonly buffers: number;
  destroy(): void;
}

/** The default budget for a network's cached plans, all caches together: 64 MiB (the README's "Memory", docs/reliability.md). */
export const PLAN_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * What a plan costs beyond its buffers' bytes, measured on SwiftShader (Dawn in Node, the resident
 * memory of a process making 200 plans of each of [4, 8, 3] and [4, 8, 8, 8, 3], for prediction and
 * for evaluation: 208–544 KiB each where their buffers hold 7–27 KiB): about 128 KiB a plan and 12 KiB a
 * buffer it holds (its bind groups, the driver's allocations, their JavaScript objects). A GPU's driver
 * costs less per object; counting it so there only makes the cache keep fewer small plans.
 */
export const PLAN_OVERHEAD = { plan: 128 * 1024, buffer: 12 * 1024 } as const;

/** What a plan counts against the budget: its buffers' bytes and its overhead (PLAN_OVERHEAD). */
export function planCost(plan: CachedPlan): number {
  return plan.bytes + PLAN_OVERHEAD.plan + PLAN_OVERHEAD.buffer * plan.buffers;
}

interface Entry<P> {
  key: string;
  plan: Promise<P>;
  /** What it counts (planCost), 0 until made. */
  cost: number;
  bytes: number;
  pins: number;
  /** When it was last asked for (PlanBudget's clock). */
  used: number;
}

/** One budget for several plan caches (a network's): least recently used across them goes first. */
export class PlanBudget {
  /** @internal */
  readonly caches: PlanCache<never, CachedPlan>[] = [];
  private clock = 0;

  constructor(
    /** Bytes, as planCost counts them; see PLAN_CACHE_BYTES. */
    public bytes = PLAN_CACHE_BYTES,
  ) {}

  /** @internal A time for an entry used now. */
  now(): number {
    return ++this.clock;
  }

  /** What the plans of every cache count together. */
  get cost(): number {
    let total = 0;
    for (const cache of this.caches) total += cache.usage.cost;
    return total;
  }

  /** Drops least recently used, unpinned plans of any cache (never `keep`) while over the budget. */
  evict(keep?: unknown): void {
    let total = this.cost;
    while (total > this.bytes) {
      let oldest: { cache: PlanCache<never, CachedPlan>; entry: Entry<CachedPlan> } | undefined;
      for (const cache of this.caches) {
        for (const entry of cache.entries.values()) {
          if (entry === keep || entry.pins > 0 || entry.cost === 0) continue;
          if (!oldest || entry.used < oldest.entry.used) oldest = { cache, entry };
        }
      }
      if (!oldest) return;
      oldest.cache.entries.delete(oldest.entry.key);
      total -= oldest.entry.cost;
      oldest.entry.plan.then((p) => p.destroy());
    }
  }
}

export class PlanCache<K extends readonly unknown[], P extends CachedPlan> {
  /** Entries by key. @internal (clearPlans, PlanBudget) */
  readonly entries = new Map<string, Entry<P>>();
  /** The budget it shares (a network's), or its own. */
  readonly budget: PlanBudget;

  constructor(
    private readonly make: (...key: K) => Promise<P>,
    /** The budget it shares with other caches, or bytes for one of its own; see PLAN_CACHE_BYTES. */
    budget: PlanBudget | number = PLAN_CACHE_BYTES,
  ) {
    this.budget = typeof budget === 'number' ? new PlanBudget(budget) : budget;
    this.budget.caches.push(this as unknown as PlanCache<never, CachedPlan>);
  }

  /** The plan for a key: cached, or made now (evicting unused ones over the budget). */
  get(...key: K): Promise<P> {
    const id = JSON.stringify(key);
    let entry = this.entries.get(id);
    if (entry) {
      entry.used = this.budget.now();
      return entry.plan;
    }
    const plan = this.make(...key);
    entry = { key: id, plan, cost: 0, bytes: 0, pins: 0, used: this.budget.now() };
    const made = entry;
    this.entries.set(id, made);
    plan.then(
      (p) => {
        made.bytes = p.bytes;
        made.cost = planCost(p);
        this.budget.evict(made);
      },
      () => {
        if (this.entries.get(id) === made) this.entries.delete(id);
      },
    );
    return plan;
  }

  /**
   * The plan, pinned: it is not evicted until `release()` (several plans can be pinned at once, and
   * a pinned plan may exceed the budget). Release exactly once.
   */
  async acquire(...key: K): Promise<{ plan: P; release: () => void }> {
    const plan = await this.get(...key);
    const entry = this.entries.get(JSON.stringify(key));
    if (entry) entry.pins++;
    let released = false;
    return {
      plan,
      release: () => {
        if (released || !entry) return;
        released = true;
        entry.pins--;
        this.budget.evict();
      },
    };
  }

  /** Runs `fn` with the plan pinned (see acquire). */
  async with<T>(key: K, fn: (plan: P) => Promise<T>): Promise<T> {
    const { plan, release } = await this.acquire(...key);
    try {
      return await fn(plan);
    } finally {
      release();
    }
  }

  /** How many plans are cached, the bytes of their buffers, and what they count against the budget (planCost). */
  get usage(): { plans: number; bytes: number; cost: number } {
    let bytes = 0;
    let cost = 0;
    for (const e of this.entries.values()) {
      bytes += e.bytes;
      cost += e.cost;
    }
    return { plans: this.entries.size, bytes, cost };
  }

  /** Destroys every plan. */
  async destroy(): Promise<void> {
    const plans = await Promise.allSettled([...this.entries.values()].map((e) => e.plan));
    for (const p of plans) if (p.status === 'fulfilled') p.value.destroy();
    this.entries.clear();
  }
}

/**
 * Forgets every plan of a cache (what they were made from changed: a network's input transform), so
 * that the next `get` makes a new one: the unpinned are destroyed now; a pinned one (a predict running
 * meanwhile) stays, under a key no `get` asks for, until the budget evicts it once released. A function,
 * not a method, so that the inference entry, which never clears, leaves it out.
 */
export function clearPlans<P extends CachedPlan>(cache: PlanCache<never, P>): void {
  for (const [key, entry] of [...cache.entries]) {
    cache.entries.delete(key);
    if (entry.pins > 0) {
      entry.key = `cleared ${key}`;
      cache.entries.set(entry.key, entry);
    } else
      entry.plan.then(
        (p) => p.destroy(),
        () => {},
      );
  }
}
