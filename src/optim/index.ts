/**
 * The optimizers: one definition each (see definition.ts), registered here once. Everything that
 * offers a choice of optimizer — options, checkpoint files, `--optimizer` and its flags, the demo's
 * menu — lists these, and every hyperparameter is checked by `resolveOptimizer`, the one range check.
 */
import { checkKeys, fail, resolveParams, type SettingSpec, type SettingValue } from '../params.js';
import { adam } from './adam.js';
import { adamw } from './adamw.js';
import type { OptimizerDefinition } from './definition.js';
import { momentum } from './momentum.js';
import { rmsprop } from './rmsprop.js';
import { sgd } from './sgd.js';

export const OPTIMIZER_REGISTRY = { sgd, momentum, adam, adamw, rmsprop } as const;

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
export const HYPERPARAMETERS: Readonly<Record<string, SettingSpec>> = Object.fromEntries(
  OPTIMIZERS.flatMap((k) => Object.entries(optimizerDefinition(k).hyper)).filter(
    ([name], i, all) => all.findIndex(([other]) => other === name) === i,
  ),
);

type Hyper<K extends OptimizerKind> = (typeof OPTIMIZER_REGISTRY)[K]['hyper'];

/** Every hyperparameter name of the registry: `learningRate`, `momentum`, `beta1`, … */
export type HyperparameterName = { [K in OptimizerKind]: keyof Hyper<K> }[OptimizerKind] & string;

/** The specs that declare a hyperparameter, one per optimizer that has it. */
type SpecsOf<N extends HyperparameterName> = {
  [K in OptimizerKind]: N extends keyof Hyper<K> ? Hyper<K>[N] : never;
}[OptimizerKind];

/** The value a hyperparameter takes: a number, or a boolean for a switch (RMSprop's `centered`). */
export type HyperparameterValue<N extends HyperparameterName> = SettingValue<SpecsOf<N>>;

/**
 * The hyperparameters of every registered optimizer, each optional (what an optimizer does not have is
 * refused by `resolveOptimizer`): read from the registry, so an optimizer registered with a new
 * hyperparameter adds it here, to `OptimizerConfig`, to `fit`'s options and to `npm run train`'s flags.
 * Each one's default, range and meaning are in its definition (`OPTIMIZER_REGISTRY[kind].hyper`), and
 * in the README's table.
 */
export type OptimizerSettings = { -readonly [K in HyperparameterName]?: HyperparameterValue<K> };

/**
 * Optimizer settings: the kind and any of its hyperparameters (the rest take their defaults). `learningRate`
 * is in (0, 1000], default 0.1 for sgd, 0.05 for momentum, 0.01 for rmsprop and 0.001 for adam and adamw;
 * `weightDecay` applies to the weights, not the biases (L2, or decoupled for adamw).
 */
export interface OptimizerConfig extends OptimizerSettings {
  /** One of the registered optimizers (`OPTIMIZERS`): `'sgd'`, `'momentum'`, `'adam'`, `'adamw'`, … Default `'adam'`. */
  kind?: OptimizerKind;
}

/** Settings resolved: the kind and every hyperparameter it has (and only those), checked. */
export type ResolvedOptimizer = { readonly kind: OptimizerKind; readonly learningRate: number } & {
  readonly [K in HyperparameterName]?: HyperparameterValue<K>;
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
export function hyperOf(o: ResolvedOptimizer): Record<string, number | boolean> {
  const { kind: _kind, ...hyper } = o;
  return hyper as Record<string, number | boolean>;
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
