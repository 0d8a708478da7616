/** What the setup probe imports from the library, in one module so that the import is timed as one. */
export { describeAdapter } from '../src/gpu/adapter.js';
export { requestGpuDevice } from '../src/gpu/device.js';
export { spaceOutDawnPolling } from '../src/gpu/polling.js';
export { createMLP } from '../src/mlp.js';
