/**
 * An optimizer in Float64 over the reference network's per-layer tensors: its state (the definition's
 * state tensors, shaped like the parameters, zero at the start) and one update by the definition's
 * Float64 update. Weights are decayed, biases not, as on the GPU.
 */

import { paramLayout, type TensorSlot } from '../model/layout.js';
import type { RefParams } from '../model/reference.js';
import { zeroParamsRef } from '../model/reference.js';
import type { MlpSpec } from '../model/spec.js';
import { hyperOf, type OptimizerDefinition, optimizerDefinition, type ResolvedOptimizer } from './index.js';

export class RefOptimizerState {
  readonly definition: OptimizerDefinition;
  readonly hyper: Record<string, number | boolean>;
  /** Updates applied so far; the next one is number step + 1. */
  step = 0;
  /** The state tensors in the definition's order (velocity; m and v…), each shaped like the params. */
  readonly buffers: RefParams[];
  /** The trained tensors of the network (paramLayout): which to update, and which to decay. */
  readonly tensors: readonly TensorSlot[];

  constructor(
    spec: MlpSpec,
    readonly optimizer: ResolvedOptimizer,
  ) {
    this.definition = optimizerDefinition(optimizer.kind);
    this.hyper = hyperOf(optimizer);
    this.buffers = this.definition.state.map(() => zeroParamsRef(spec));
    this.tensors = paramLayout(spec).tensors;
  }

  /** A state tensor by its name (`'velocity'`, `'m'`, `'v'`). */
  buffer(name: string): RefParams {
    const i = this.definition.state.indexOf(name);
    if (i < 0)
      throw new Error(
        `${this.definition.name} has no state ${name} (it has ${this.definition.state.join(', ') || 'none'})`,
      );
    return this.buffers[i];
  }

  /** A deep copy. */
  clone(spec: MlpSpec): RefOptimizerState {
    const copy = new RefOptimizerState(spec, this.optimizer);
    copy.step = this.step;
    this.buffers.forEach((b, i) => {
      b.forEach((p, l) => {
        for (const [key, t] of Object.entries(p)) copy.buffers[i]?.[l]?.[key]?.set(t);
      });
    });
    return copy;
  }
}

/** Applies one update to `params` in place: every trained tensor, the dense weights decayed, the rest not. */
export function optimizerUpdateRef(
  state: RefOptimizerState,
  params: RefParams,
  grads: RefParams,
  /** Replaces the optimizer's rate for this update only (a schedule's). */
  learningRate?: number,
): void {
  state.step++;
  const hyper = learningRate === undefined ? state.hyper : { ...state.hyper, learningRate };
  for (const { block, key, tensor } of state.tensors) {
    const p = params[block]?.[key] as Float64Array;
    const decayCount = tensor.decay ? p.length : 0;
    const buffers = state.buffers.map((b) => b[block]?.[key] as Float64Array);
    state.definition.updateRef(p, grads[block]?.[key] as Float64Array, buffers, hyper, state.step, decayCount);
  }
}
