/**
 * The loss heads: one definition each (see definition.ts), registered here once.
 */
import { fail, formatValue, resolveParams } from '../../params.js';
import type { HeadDefinition } from './definition.js';
import { huber } from './huber.js';
import { mse } from './mse.js';
import { sigmoid } from './sigmoid.js';
import { softmax } from './softmax.js';

export const HEAD_REGISTRY = { softmax, sigmoid, mse, huber } as const;

/** The name of a loss head. */
export type HeadName = keyof typeof HEAD_REGISTRY;

export const HEADS = Object.keys(HEAD_REGISTRY) as readonly HeadName[];

/** A head as options and files give it: its name, or `{ name, ...params }` (e.g. `{ name: 'huber', delta: 0.5 }`). */
export type Head = HeadName | { readonly name: HeadName; readonly [param: string]: number | string };

/** A head with its parameters resolved. */
export interface ResolvedHead {
  readonly definition: HeadDefinition;
  readonly params: Readonly<Record<string, number>>;
}

export function headDefinition(name: unknown, arg = 'head'): HeadDefinition {
  if (typeof name !== 'string' || !Object.hasOwn(HEAD_REGISTRY, name)) fail(arg, name, `one of ${HEADS.join(', ')}`);
  return HEAD_REGISTRY[name as HeadName] as HeadDefinition;
}

export function resolveHead(given: unknown, arg = 'head'): ResolvedHead {
  if (typeof given === 'object' && given !== null && !Array.isArray(given)) {
    const { name, ...params } = given as { name?: unknown };
    const definition = headDefinition(name, `${arg}.name`);
    return { definition, params: resolveParams(arg, definition.params, params) };
  }
  const definition = headDefinition(given, arg);
  return { definition, params: resolveParams(arg, definition.params) };
}

/** The canonical form: the name when every parameter has its default, else `{ name, ...params }`. */
export function canonicalHead(h: ResolvedHead): Head {
  const { definition, params } = h;
  const changed = Object.keys(definition.params).filter((k) => params[k] !== definition.params[k].default);
  if (changed.length === 0) return definition.name as HeadName;
  return { name: definition.name as HeadName, ...params };
}

/** For messages: `softmax`, `huber(delta 0.5)`. */
export function describeHead(h: Head): string {
  if (typeof h === 'string') return h;
  const { name, ...params } = h;
  return `${name}(${Object.entries(params)
    .map(([k, v]) => `${k} ${formatValue(v)}`)
    .join(', ')})`;
}

export type { HeadDefinition, PredictionKind } from './definition.js';
