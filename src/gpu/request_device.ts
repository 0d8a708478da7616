/**
 * The package's `requestGpuDevice`: device creation (src/gpu/device.ts) loaded on its first call, so
 * that an application that brings its own `GPUDevice` never downloads it (as `GpuContext.create`).
 */
import type { DeviceOptions, OwnedDevice } from './device.js';

/**
 * Requests an adapter and a device with the limits this library can use raised to the adapter's, for
 * the application to give to `createMLP`, `loadMLP` or `loadPredictor` and to use itself. In Node, a
 * hardware adapter is preferred and SwiftShader is the fallback; Dawn checks the bounds of every
 * buffer access unless `robustness` is `false` ({@link DeviceOptions.robustness}).
 */
export async function requestGpuDevice(options?: DeviceOptions): Promise<OwnedDevice> {
  return (await import('./device.js')).requestGpuDevice(options);
}
