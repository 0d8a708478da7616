/**
 * The activations: one definition each (see definition.ts), registered here once. Everything that
 * offers a choice of activation — options, files, `--activation`, the demo's menu — lists these.
 */
import { fail, formatValue, resolveParams } from '../../params.js';
import type { ActivationDefinition, ResolvedActivation } from './definition.js';
import { gelu } from './gelu.js';
import { leakyRelu } from './leaky_relu.js';
import { linear } from './linear.js';
import { relu } from './relu.js';
import { sigmoid } from './sigmoid.js';
import { tanh } from './tanh.js';

export const ACTIVATION_REGISTRY = { relu, sigmoid, tanh, linear, leakyRelu, gelu } as const;

/** The name of an activation: `'relu'`, `'leakyRelu'`, … */
export type ActivationName = keyof typeof ACTIVATION_REGISTRY;

/** The names, in the registry's order. */
export const ACTIVATIONS = Object.keys(ACTIVATION_REGISTRY) as readonly ActivationName[];

/**
 * An activation as options and files give it: its name (default parameters), or the name with
 * parameters, e.g. `{ name: 'leakyRelu', slope: 0.2 }`.
 */
export type Activation = ActivationName | { readonly name: ActivationName; readonly [param: string]: number | string };

/** The definition of a registered activation, or an error naming the choices. */
export function activationDefinition(name: unknown, arg = 'activation'): ActivationDefinition {
  if (typeof name !== 'string' || !Object.hasOwn(ACTIVATION_REGISTRY, name)) {
    fail(arg, name, `one of ${ACTIVATIONS.join(', ')}`);
  }
  return ACTIVATION_REGISTRY[name as ActivationName] as ActivationDefinition;
}

/** Resolves an activation as given (name or `{ name, ...params }`), checking its parameters. */
export function resolveActivation(given: unknown, arg = 'activation'): ResolvedActivation {
  if (typeof given === 'object' && given !== null && !Array.isArray(given)) {
    const { name, ...params } = given as { name?: unknown };
    const definition = activationDefinition(name, `${arg}.name`);
    return { definition, params: resolveParams(arg, definition.params, params) };
  }
  const definition = activationDefinition(given, arg);
  return { definition, params: resolveParams(arg, definition.params) };
}

/**
 * The canonical form of an activation: its name when every parameter has its default (so specs,
 * files and `mlp.activations` stay plain strings), else `{ name, ...params }`.
 */
export function canonicalActivation(a: ResolvedActivation): Activation {
  const { definition, params } = a;
  const changed = Object.keys(definition.params).filter((k) => params[k] !== definition.params[k].default);
  if (changed.length === 0) return definition.name as ActivationName;
  return { name: definition.name as ActivationName, ...params };
}

/** A canonical activation resolved again (specs hold canonical activations). */
export function activationOfSpec(a: Activation): ResolvedActivation {
  return resolveActivation(a);
}

/** For messages: `relu`, `leakyRelu(slope 0.2)`. */
export function describeActivation(a: Activation): string {
  if (typeof a === 'string') return a;
  const { name, ...params } = a;
  const list = Object.entries(params).map(([k, v]) => `${k} ${formatValue(v)}`);
  return `${name}(${list.join(', ')})`;
}

export type { ActivationDefinition, ResolvedActivation } from './definition.js';
export { kernelActivation, scalarActivation } from './definition.js';
