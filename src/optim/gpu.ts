/**
 * An optimizer on the GPU for a model's flat parameters: its state buffers (named by its definition,
 * laid out like the parameters) and its update op, in slots — each step of a multi-step submit has its
 * own uniform, so the steps can carry different step counts (Adam's bias correction).
 */
import type { GpuContext } from '../gpu/context.js';
import { OpScope } from '../kernels/op.js';
import { type OptimizerOp, prepareOptimizer } from '../kernels/optimizer.js';
import type { ParamLayout } from '../model/layout.js';
import { hyperOf, type OptimizerDefinition, optimizerDefinition, type ResolvedOptimizer } from './index.js';

const STORAGE_RW = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class GpuOptimizer {
  readonly definition: OptimizerDefinition;
  /** The state buffers in the definition's order, zero at the start. */
  readonly state: GPUBuffer[];
  private readonly scope: OpScope;
  private readonly slots: Promise<OptimizerOp>[] = [];

  constructor(
    private readonly ctx: GpuContext,
    readonly kind: ResolvedOptimizer['kind'],
    private readonly target: { params: GPUBuffer; grads: GPUBuffer; layout: ParamLayout },
    private readonly label: string,
  ) {
    this.definition = optimizerDefinition(kind);
    const bytes = target.layout.totalFloats * 4;
    this.state = this.definition.state.map((n) => ctx.createBuffer(`${label}.${n}`, bytes, STORAGE_RW()));
    this.scope = new OpScope(ctx);
  }

  /** The update op of a slot (made once). */
  slot(i: number): Promise<OptimizerOp> {
    let op = this.slots[i];
    if (!op) {
      const { params, grads, layout } = this.target;
      const def = this.definition;
      op = prepareOptimizer(
        this.ctx,
        this.scope,
        {
          update: def.module,
          params,
          grads,
          state: Object.fromEntries(def.state.map((n, k) => [n, this.state[k]])),
          count: layout.totalFloats,
          decayCount: layout.decayCount,
        },
        def.uniform(hyperOf({ kind: this.kind, ...defaults(def) } as ResolvedOptimizer), 1),
        i === 0 ? this.label : `${this.label}.slot${i}`,
      );
      this.slots[i] = op;
      op.catch(() => delete this.slots[i]);
    }
    return op;
  }

  /** Sets a slot's uniform for update number `step` (1-based) with these settings. */
  setHyper(op: OptimizerOp, settings: ResolvedOptimizer, step: number): void {
    op.setHyper(this.definition.uniform(hyperOf(settings), step));
  }

  destroy(): void {
    this.scope.destroy();
    for (const b of this.state) this.ctx.releaseBuffer(b);
  }
}

function defaults(def: OptimizerDefinition): Record<string, number | boolean> {
  return Object.fromEntries(Object.entries(def.hyper).map(([k, spec]) => [k, spec.default]));
}
