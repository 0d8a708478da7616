import type { HeadOutputs } from './definition.js';

/** The outputs of a regression head: the logits themselves (a linear output layer), no kernel. */
export function valueOutputs<P extends string>(name: string, params: HeadOutputs<P>['params']): HeadOutputs<P> {
  return { name, params, minOutputs: 1, prediction: 'value', targets: ['dense'] };
}
