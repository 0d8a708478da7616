/**
 * The loss heads: one definition each (see definition.ts), registered here once. (Their outputs parts
 * are registered in outputs.ts as well, for inference.)
 */
import type { MlpSpec } from '../spec.js';
import type { HeadDefinition } from './definition.js';
import { huber } from './huber.js';
import { mse } from './mse.js';
import { type HeadName, resolveHeadOutputs } from './outputs.js';
import { sigmoid } from './sigmoid.js';
import { softmax } from './softmax.js';

export const HEAD_REGISTRY = { softmax, sigmoid, mse, huber } as const satisfies Record<HeadName, HeadDefinition>;

/** A head with its parameters resolved. */
export interface ResolvedHead {
  readonly definition: HeadDefinition;
  readonly params: Readonly<Record<string, number>>;
}

/** The full definition of a spec's head, with its parameters. */
export function headOf(spec: Pick<MlpSpec, 'head'>): ResolvedHead {
  const { outputs, params } = resolveHeadOutputs(spec.head, 'head');
  return { definition: HEAD_REGISTRY[outputs.name as HeadName] as HeadDefinition, params };
}

export type { HeadDefinition, HeadOutputs, PredictionKind } from './definition.js';
export { canonicalHead, describeHead, HEAD_OUTPUTS, HEADS, type Head, type HeadName } from './outputs.js';
