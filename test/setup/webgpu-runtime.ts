// Every test process: find the WebGPU runtime (a GPU, the system's SwiftShader or the packaged one)
// before any test creates a Dawn instance. See src/node/webgpu-runtime.ts; WEBGPU_MLP_RUNTIME forces one.
// Child processes the tests start (the train CLI, the package's examples) inherit its environment.
import { findWebGpuRuntime } from '../../src/node/webgpu-runtime.js';

const runtime = findWebGpuRuntime();
// The GPU tests will fail (never skip) without an adapter: say why first.
if (runtime.kind === 'none') console.warn(`test setup: no WebGPU runtime: ${runtime.problem}`);
