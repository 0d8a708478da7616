/**
 * The activation a kernel applies (matmul's forward epilogue, its backward mask, the elementwise
 * activation kernel): a WGSL module from shaders/activations/ defining `activate` and
 * `activation_grad`, appended to the kernel's shader (WGSL functions may be used before they are
 * declared, so the shader's own line numbers, which WGSL errors report, stay those of its file).
 * The model's activation definitions (src/model/activations/) produce these.
 */
import type { WgslModule } from './kernel.js';

export interface KernelActivation extends WgslModule {
  /** The module's `override` constants for this activation's parameters (a leaky ReLU's SLOPE). */
  readonly constants: Readonly<Record<string, number>>;
  /** Whether `activation_grad` takes the activation's output or its input (see the definitions). */
  readonly gradFrom: 'output' | 'input';
}
