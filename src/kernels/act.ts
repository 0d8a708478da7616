/**
 * shaders/act.wgsl (activate, activation_grad) is shared by matmul.wgsl and activation.wgsl; WGSL
 * has no includes, so their wrappers append it here.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import act from '../../shaders/act.wgsl?raw';

/**
 * The shader with act.wgsl appended. At the end, so the shader's own line numbers, which WGSL
 * errors report, stay those of its file (WGSL functions may be used before they are declared).
 */
export function withActivations(source: string): string {
  return `${source}\n${act}`;
}
