/**
 * Plans by key with a byte budget: an application may call `predict` or `evaluate` with any number of
 * rows, and each new row count needs a plan (its buffers and bind groups). Plans are kept while they
 * fit in the budget, least recently used first out; a plan in use (pinned by a running fit, evaluation
 * or prediction) is never evicted, nor the one just asked for, so a single plan larger than the budget
 * still works.
 *
 * Eviction destroys a plan's buffers at once; work already submitted with them is unaffected (WebGPU
 * keeps a destroyed buffer alive for commands already submitted), and an unpinned plan is never used
 * again after another plan was asked for.
 */

/** What the cache holds: anything that knows its size and can be destroyed. */
export interface CachedPlan {
  readonly bytes: number;
  destroy(): void;
}

/** The default budget for a model's cached plans: 64 MiB (the README's "Memory", docs/reliability.md). */
export const PLAN_CACHE_BYTES = 64 * 1024 * 1024;

interface Entry<P> {
  key: string;
  plan: Promise<P>;
  bytes: number;
  pins: number;
}

export class PlanCache<K extends readonly unknown[], P extends CachedPlan> {
  /** Entries in use order: least recently used first. @internal (clearPlans) */
  readonly entries = new Map<string, Entry<P>>();

  constructor(
    private readonly make: (...key: K) => Promise<P>,
    /** The budget in bytes; see PLAN_CACHE_BYTES. */
    public budget = PLAN_CACHE_BYTES,
  ) {}

  /** The plan for a key: cached, or made now (evicting unused ones over the budget). */
  get(...key: K): Promise<P> {
    const id = JSON.stringify(key);
    let entry = this.entries.get(id);
    if (entry) {
      this.entries.delete(id); // move to the most recent end
      this.entries.set(id, entry);
      return entry.plan;
    }
    const plan = this.make(...key);
    entry = { key: id, plan, bytes: 0, pins: 0 };
    const made = entry;
    this.entries.set(id, made);
    plan.then(
      (p) => {
        made.bytes = p.bytes;
        this.evict(made);
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
        this.evict(undefined);
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

  /** Bytes held by the cached plans, and how many there are. */
  get usage(): { bytes: number; plans: number } {
    let bytes = 0;
    for (const e of this.entries.values()) bytes += e.bytes;
    return { bytes, plans: this.entries.size };
  }

  /** Drops least recently used, unpinned plans (never `keep`) while over the budget. */
  private evict(keep: Entry<P> | undefined): void {
    let total = this.usage.bytes;
    for (const entry of [...this.entries.values()]) {
      if (total <= this.budget) break;
      if (entry === keep || entry.pins > 0 || entry.bytes === 0) continue;
      this.entries.delete(entry.key);
      total -= entry.bytes;
      entry.plan.then((p) => p.destroy());
    }
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
