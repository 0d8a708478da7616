/**
 * Activations for the tests, by name, from their definitions (src/model/activations/): the module a
 * kernel appends, the Float64 pair the reference takes, and what the derivative reads.
 */
import type { KernelActivation } from '../../src/kernels/act.js';
import {
  type Activation,
  kernelActivation,
  resolveActivation,
  scalarActivation,
} from '../../src/model/activations/index.js';
import type { ScalarActivation } from '../../src/reference/activation.js';

/** The kernel module of an activation (default parameters unless given). */
export function kernelAct(a: Activation): KernelActivation {
  return kernelActivation(resolveActivation(a));
}

/** The Float64 functions of an activation. */
export function refAct(a: Activation): ScalarActivation {
  return scalarActivation(resolveActivation(a));
}

/** Whether the derivative reads the activation's input (GELU) rather than its output. */
export function gradFromInput(a: Activation): boolean {
  return resolveActivation(a).definition.gradFrom === 'input';
}
