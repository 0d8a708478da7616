/**
 * An optimizer, defined once (after tinygrad's nn/optim.py: an optimizer declares its per-parameter
 * state and implements one update): its name, its hyperparameters with defaults and valid ranges,
 * its state tensors (which also name them in checkpoint files and in its WGSL module), its WGSL update
 * (a module of shaders/optimizers/) with the uniform it reads, and its Float64 update. The model, the
 * checkpoints, the CPU trainer, `check()`, the CLI's flags and the demo's menu all read it from the
 * registry (index.ts); adding one is a file here, a WGSL module (or a reused one) and a registry line.
 */
import type { ParamSpec, ParamSpecs, SettingSpecs, SettingValues } from '../params.js';

export interface OptimizerDefinition<S extends SettingSpecs = SettingSpecs> {
  /** The name in options, files, `--optimizer` and the demo's menu. */
  readonly name: string;
  /** A few words for menus and `--help`. */
  readonly title: string;
  /** The PyTorch call it matches (docs/maths.md says where and why it differs, if it does). */
  readonly torch: string;
  /**
   * Every hyperparameter, `learningRate` and `weightDecay` among them: numbers with a range
   * (ParamSpec) or switches (SwitchSpec). Their names become `fit`'s options, `createMLP`'s
   * `optimizer` settings, checkpoint metadata and `--kebab-case` flags of `npm run train`.
   */
  readonly hyper: S;
  /**
   * The state tensors, each shaped like the parameters and starting at zero: the binding names of the
   * WGSL module, and the names in checkpoint files (`optimizer.<name>.layers.0.weight`).
   */
  readonly state: readonly string[];
  /** Its update module (shaders/optimizers/*.wgsl) and a name for it. */
  readonly module: { readonly name: string; readonly source: string };
  /**
   * The module's `Hyper` uniform for update number `step` (1-based), by field name, computed in double
   * precision (rounded to f32 only when written).
   */
  uniform(hyper: SettingValues<S>, step: number): Record<string, number>;
  /**
   * One update in Float64, in place: `params` and `state` (in `state`'s order) are updated from
   * `grads`; elements [0, decayCount) are weights (weight decay applies), the rest biases.
   */
  updateRef(
    params: Float64Array,
    grads: ArrayLike<number>,
    state: readonly Float64Array[],
    hyper: SettingValues<S>,
    step: number,
    decayCount: number,
  ): void;
}

/** An optimizer definition, its hyperparameters' types inferred from its `hyper` (the functions' `h`). */
export function defineOptimizer<const S extends SettingSpecs>(
  definition: OptimizerDefinition<S>,
): OptimizerDefinition<S> {
  return definition;
}

/** The learning rate: every optimizer has one; only its default differs. */
export function learningRate(defaultValue: number): ParamSpec {
  return {
    default: defaultValue,
    min: 0,
    max: 1000,
    minExclusive: true,
    doc: 'learning rate, the step size',
    flag: 'lr',
  };
}

/** Weight decay on the weights (never the biases); `how` says whether L2 or decoupled. */
export function weightDecay(defaultValue: number, how: string): ParamSpec {
  return { default: defaultValue, min: 0, max: 1e3, doc: `weight decay on the weights, ${how}` };
}

/** Adam's β1, β2 and ε, shared by Adam and AdamW. */
export const ADAM_MOMENTS = {
  beta1: { default: 0.9, min: 0, max: 1, maxExclusive: true, doc: "Adam's β1: the first moment's decay" },
  beta2: { default: 0.999, min: 0, max: 1, maxExclusive: true, doc: "Adam's β2: the second moment's decay" },
  eps: { default: 1e-8, min: 0, max: 1, minExclusive: true, doc: "Adam's ε, added to √v̂" },
} as const satisfies ParamSpecs;
