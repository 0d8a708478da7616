/**
 * The heads as inference knows them: each head's outputs part (see HeadOutputs), registered here
 * beside the full definitions of index.ts. Options and files are checked against this registry (a
 * name, its parameters, the outputs it needs), so the inference entry carries no loss kernel; a test
 * keeps the two registries in step (test/model/heads.test.ts).
 */
import { fail, formatValue, resolveParams } from '../../params.js';
import type { HeadOutputs } from './definition.js';
import { huberOutputs } from './huber.js';
import { mseOutputs } from './mse.js';
import { sigmoidOutputs } from './sigmoid.js';
import { softmaxOutputs } from './softmax.js';

export const HEAD_OUTPUTS = {
  softmax: softmaxOutputs,
  sigmoid: sigmoidOutputs,
  mse: mseOutputs,
  huber: huberOutputs,
} as const;

/** The name of a loss head. */
export type HeadName = keyof typeof HEAD_OUTPUTS;

export const HEADS = Object.keys(HEAD_OUTPUTS) as readonly HeadName[];

/** A head as options and files give it: its name, or `{ name, ...params }` (e.g. `{ name: 'huber', delta: 0.5 }`). */
export type Head = HeadName | { readonly name: HeadName; readonly [param: string]: number | string };

/** A head's outputs part with its parameters resolved. */
export interface ResolvedHeadOutputs {
  readonly outputs: HeadOutputs;
  readonly params: Readonly<Record<string, number>>;
}

export function headOutputs(name: unknown, arg = 'head'): HeadOutputs {
  if (typeof name !== 'string' || !Object.hasOwn(HEAD_OUTPUTS, name)) fail(arg, name, `one of ${HEADS.join(', ')}`);
  return HEAD_OUTPUTS[name as HeadName] as HeadOutputs;
}

/** Checks a head as given (name or `{ name, ...params }`) and resolves its parameters. */
export function resolveHeadOutputs(given: unknown, arg = 'head'): ResolvedHeadOutputs {
  if (typeof given === 'object' && given !== null && !Array.isArray(given)) {
    const { name, ...params } = given as { name?: unknown };
    const outputs = headOutputs(name, `${arg}.name`);
    return { outputs, params: resolveParams(arg, outputs.params, params) };
  }
  const outputs = headOutputs(given, arg);
  return { outputs, params: resolveParams(arg, outputs.params) };
}

/** The canonical form: the name when every parameter has its default, else `{ name, ...params }`. */
export function canonicalHead(h: ResolvedHeadOutputs): Head {
  const { outputs, params } = h;
  const changed = Object.keys(outputs.params).filter((k) => params[k] !== outputs.params[k].default);
  if (changed.length === 0) return outputs.name as HeadName;
  return { name: outputs.name as HeadName, ...params };
}

/** For messages: `softmax`, `huber(delta 0.5)`. */
export function describeHead(h: Head): string {
  if (typeof h === 'string') return h;
  const { name, ...params } = h;
  return `${name}(${Object.entries(params)
    .map(([k, v]) => `${k} ${formatValue(v)}`)
    .join(', ')})`;
}
