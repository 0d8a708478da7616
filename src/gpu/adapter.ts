/**
 * Naming an adapter: what the progress headers, benchmark reports and errors say about the GPU.
 * Apart from device.ts (which creates devices, and which the library loads only when it does) so that
 * code wrapping the application's own device does not carry device creation.
 */

/** What we tell the user about an adapter. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software (CPU) implementation such as SwiftShader. */
  isSoftware: boolean;
}

/** Summarises `adapter.info` (or a device's `adapterInfo`) in a form we can print. */
export function summariseAdapter(info: GPUAdapterInfo): AdapterSummary {
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isSoftware: fallback || text.includes('swiftshader') || text.includes('llvmpipe') || text.includes('lavapipe'),
  };
}

/** One line naming the adapter, e.g. `google swiftshader (SwiftShader driver 5.0.0, software)`. */
export function describeAdapter(s: AdapterSummary): string {
  const name = [s.vendor, s.architecture, s.device].filter((x) => x).join(' ') || 'unknown adapter';
  const extra = [s.description, s.isSoftware ? 'software' : ''].filter((x) => x).join(', ');
  return extra ? `${name} (${extra})` : name;
}
