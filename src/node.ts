/**
 * webgpu-mlp/node: WebGPU for Node on Linux machines without a GPU driver set up, for applications of
 * the library — the finder that `npm run train`, `npm run bench` and the tests use. Node only; the
 * browser entries never import it.
 *
 * ```ts
 * import { findWebGpuRuntime } from 'webgpu-mlp/node';
 * import { createMLP } from 'webgpu-mlp';
 * const runtime = findWebGpuRuntime(); // before the first createMLP / loadPredictor
 * if (runtime.kind === 'none') console.warn(runtime.problem);
 * ```
 *
 * It looks for a GPU, then Debian's SwiftShader, then the SwiftShader packaged in the npm package
 * `@sparticuz/chromium` (install it beside `webgpu` for machines with neither: no root needed),
 * then the system's Vulkan drivers; `WEBGPU_MLP_RUNTIME=auto|gpu|system|packaged|cpu` forces one.
 */
export type { RuntimeKind, WebGpuRuntime } from './node/webgpu-runtime.js';
export { findWebGpuRuntime } from './node/webgpu-runtime.js';
