/**
 * The optimizers: one definition each (see definition.ts), registered here once. Everything that
 * offers a choice of optimizer — options, checkpoint files, `--optimizer` and its flags, the demo's
 * menu — lists these, and every hyperparameter is checked by `resolveOptimizer`, the one range check.
 */
import { checkKeys, fail, type ParamSpec, type ParamValues, resolveParams } from '../params.js';
import { adam } from './adam.js';
import { adamw } from './adamw.js';
import type { OptimizerDefinition } from './definition.js';
import { momentum } from './momentum.js';
import { sgd } from './sgd.js';

export const OPTIMIZER_REGISTRY = { sgd, momentum, adam, adamw } as const;

/** The name of an optimizer: `'sgd'`, `'momentum'`, `'adam'`, `'adamw'`. */
export type OptimizerKind = keyof typeof OPTIMIZER_REGISTRY;

/** The names, in the registry's order. */
export const OPTIMIZERS = Object.keys(OPTIMIZER_REGISTRY) as readonly OptimizerKind[];

/** The optimizer the library uses when none is named. */
export const DEFAULT_OPTIMIZER: OptimizerKind = 'adam';

/**
 * Every hyperparameter name of every registered optimizer, with the first spec that declares it, in the
 * registry's order (learningRate, weightDecay, momentum, beta1, …: what `--help` lists).
 */
export const HYPERPARAMETERS: Readonly<Record<string, ParamSpec>> = Object.fromEntries(
  OPTIMIZERS.flatMap((k) => Object.entries(optimizerDefinition(k).hyper)).filter(
    ([name], i, all) => all.findIndex(([other]) => other === name) === i,
  ),
);

/** Optimizer settings: the kind and any of its hyperparameters (the rest take their defaults). */
export interface OptimizerConfig {
  /** `'sgd'`, `'momentum'` (SGD with momentum), `'adam'` or `'adamw'`. Default `'adam'`. */
  kind?: OptimizerKind;
  /** Learning rate, in (0, 1000]. Default 0.1 for sgd, 0.05 for momentum, 0.001 for adam and adamw. */
  learningRate?: number;
  /** Momentum coefficient μ in [0, 1) (momentum only). Default 0.9. */
  momentum?: number;
  /** Adam's β1 in [0, 1) (adam, adamw). Default 0.9. */
  beta1?: number;
  /** Adam's β2 in [0, 1) (adam, adamw). Default 0.999. */
  beta2?: number;
  /** Adam's ε in (0, 1] (adam, adamw). Default 1e-8. */
  eps?: number;
  /** Weight decay on the weights, not the biases: L2 for sgd, momentum and adam (default 0); decoupled for adamw (default 0.01). */
  weightDecay?: number;
}

/** Every hyperparameter name of the registry: `learningRate`, `momentum`, `beta1`, … */
export type HyperparameterName = {
  [K in OptimizerKind]: keyof (typeof OPTIMIZER_REGISTRY)[K]['hyper'];
}[OptimizerKind];

/** Settings resolved: the kind and every hyperparameter it has (and only those), checked. */
export type ResolvedOptimizer = { readonly kind: OptimizerKind; readonly learningRate: number } & {
  readonly [K in HyperparameterName]?: number;
};

export function optimizerDefinition(kind: OptimizerKind): OptimizerDefinition {
  return OPTIMIZER_REGISTRY[kind] as OptimizerDefinition;
}

/** The kind as given, checked against the registry. */
export function checkOptimizerKind(kind: unknown, arg = 'optimizer.kind'): OptimizerKind {
  if (typeof kind !== 'string' || !Object.hasOwn(OPTIMIZER_REGISTRY, kind)) {
    fail(arg, kind, `one of ${OPTIMIZERS.join(', ')}`);
  }
  return kind as OptimizerKind;
}

/**
 * Checks and completes optimizer settings: the kind (default adam) and its hyperparameters, each
 * given value checked against its range, the others at their defaults. A hyperparameter of another
 * optimizer (momentum for adam) is an error, unless `lenient` (files written before an optimizer's
 * settings were narrowed to its own, which held them all).
 */
export function resolveOptimizer(
  config: Readonly<OptimizerConfig> = {},
  arg = 'optimizer',
  lenient = false,
): ResolvedOptimizer {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    fail(arg, config, 'an object { kind, learningRate, … }, or nothing');
  }
  checkKeys(arg, config, ['kind', ...Object.keys(HYPERPARAMETERS)]);
  const kind = checkOptimizerKind(config.kind === undefined ? DEFAULT_OPTIMIZER : config.kind, `${arg}.kind`);
  const def = optimizerDefinition(kind);
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === 'kind' || value === undefined) continue;
    if (key in def.hyper) own[key] = value;
    else if (!lenient)
      fail(`${arg}.${key}`, value, `no ${key} for ${kind}: its settings are ${Object.keys(def.hyper).join(', ')}`);
  }
  return { kind, ...resolveParams(arg, def.hyper, own) } as ResolvedOptimizer;
}

/** The hyperparameters of resolved settings, as the definition's functions take them. */
export function hyperOf(o: ResolvedOptimizer): ParamValues {
  const { kind: _kind, ...hyper } = o;
  return hyper as ParamValues;
}

/** One line for logs: `momentum, lr 0.05, momentum 0.9`, with the non-default others. */
export function describeOptimizer(o: ResolvedOptimizer): string {
  const def = optimizerDefinition(o.kind);
  const parts = Object.entries(def.hyper)
    .filter(([key, spec]) => key === 'learningRate' || key === 'momentum' || hyperOf(o)[key] !== spec.default)
    .map(([key]) => `${key === 'learningRate' ? 'lr' : key} ${hyperOf(o)[key]}`);
  return [o.kind, ...parts].join(', ');
}

export type { OptimizerDefinition } from './definition.js';
