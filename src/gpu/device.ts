/**
 * Getting a GPUDevice: `navigator.gpu` in a browser or worker, the `webgpu` package (Dawn) in Node.
 *
 * Nothing here runs at import time. A device the application already owns is used as it is
 * (see `GpuContext`); only a device this module creates is ours to destroy.
 */
import { describeValue } from '../params.js';
import { type AdapterSummary, describeAdapter, summariseAdapter } from './adapter.js';

/** Options for {@link requestGpuDevice}. */
export interface DeviceOptions {
  /** Adapter preference; default `'high-performance'` (a discrete GPU where there is one). */
  powerPreference?: GPUPowerPreference;
  /** Node only: extra flags for Dawn's `create()`, e.g. `'disable-dawn-features=timestamp_quantization'`. */
  nodeFlags?: string[];
  /**
   * Node only (a browser always checks): whether Dawn checks the bounds of every buffer access of
   * every shader on the device (off: Dawn's `disable_robustness` toggle). Default `true` for
   * {@link requestGpuDevice}, whose device goes to the application and its own shaders; the device
   * that `createMLP` and `GpuContext.create` make for this library alone goes without the checks
   * unless this is `true`: every kernel here keeps its own accesses in bounds, and the checks cost
   * about 30% of a small training step on SwiftShader (README, "Bounds checks in Node").
   */
  robustness?: boolean;
  /** Features to require in addition to the ones this library uses when available. */
  requiredFeatures?: GPUFeatureName[];
  /** Label for the created device. */
  label?: string;
}

/** A device this library created, with what it was made from. */
export interface OwnedDevice {
  device: GPUDevice;
  adapterInfo: AdapterSummary;
  /**
   * The GPU object the device came from. The device holds on to it (so keeping only the device is
   * safe); in Node, Dawn tears its instance down when this object is garbage-collected, and the
   * device would die with it.
   */
  gpu: GPU;
  /** Whether Dawn checks every buffer access of the device's shaders ({@link DeviceOptions.robustness}; always in a browser). */
  robustness: boolean;
}

/** Path of the SwiftShader Vulkan driver that Debian's `chromium` package ships. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Limits worth raising above the WebGPU defaults when the adapter allows it. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
] as const;

/**
 * Optional features this library takes when the adapter has them: GPU timestamps (the tuner, the
 * benchmark) and subgroups (the direct kernels' `direct.subgroup`, on SwiftShader).
 */
const WANTED_FEATURES: GPUFeatureName[] = ['timestamp-query', 'subgroups' as GPUFeatureName];

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/**
 * Returns the `GPU` object of this platform: `navigator.gpu` in a browser or worker, Dawn in Node.
 * Throws an error that says what is missing and what to do.
 */
export async function getGpu(options: DeviceOptions = {}): Promise<GPU> {
  return (await platformGpu(options)).gpu;
}

/**
 * The GPU object for a device with these options, and whether Dawn checks the bounds on its devices.
 * In Node, a `navigator.gpu` that something else set (another library's Dawn instance) took its flags
 * when it was made: a device that needs flags of its own (`robustness: false`, `nodeFlags`) gets a Dawn
 * instance of its own, and one that needs none shares it (checks on: Dawn's default).
 */
async function platformGpu(options: DeviceOptions): Promise<{ gpu: GPU; robustness: boolean }> {
  const shared = typeof navigator !== 'undefined' ? (navigator as Navigator).gpu : undefined;
  if (isNode()) {
    const flags = nodeFlagsOf(options);
    if (!shared || flags.length > 0) {
      try {
        const unchecked = flags.some((f) => f.startsWith(ENABLE) && f.includes(UNCHECKED));
        return { gpu: await nodeGpu(flags), robustness: !unchecked };
      } catch (error) {
        if (!shared) throw error; // no `webgpu` package: the shared one (a runtime's own), checks on
      }
    }
    return { gpu: shared as GPU, robustness: true };
  }
  if (shared) return { gpu: shared, robustness: true };
  if (typeof isSecureContext !== 'undefined' && !isSecureContext) {
    throw new Error(
      'WebGPU is unavailable: this page is not a secure context. Serve it over https:// or from http://localhost.',
    );
  }
  throw new Error(
    'WebGPU is unavailable: navigator.gpu is undefined. Use a browser with WebGPU (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows) or enable it in the browser flags.',
  );
}

/**
 * Dawn's `create()` flags: the caller's, with the `disable_robustness` toggle added to their
 * `enable-dawn-features` list (or as one) when bounds checks are not wanted.
 */
export function dawnFlags(flags: readonly string[], robustness: boolean): string[] {
  const out = [...flags];
  if (robustness) return out;
  const at = out.findIndex((f) => f.startsWith(ENABLE));
  if (at < 0) out.push(`${ENABLE}${UNCHECKED}`);
  else out[at] += `,${UNCHECKED}`;
  return out;
}

const ENABLE = 'enable-dawn-features=';
const UNCHECKED = 'disable_robustness';

/** The flags Dawn's `create()` gets for these options (DeviceOptions.nodeFlags and .robustness). */
function nodeFlagsOf(options: DeviceOptions): string[] {
  return dawnFlags(options.nodeFlags ?? [], options.robustness ?? true);
}

async function nodeGpu(flags: string[]): Promise<GPU> {
  await configureNodeVulkan();
  let mod: { create: (flags: string[]) => GPU; globals: object };
  try {
    const name = 'webgpu';
    mod = (await import(/* @vite-ignore */ name)) as typeof mod;
  } catch (cause) {
    throw new Error('WebGPU in Node needs the `webgpu` package (Dawn): run `npm install webgpu`.', { cause });
  }
  // Dawn's classes (GPUBufferUsage, GPUMapMode, …) are globals in a browser; give Node the same.
  for (const [key, value] of Object.entries(mod.globals)) {
    if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
  }
  return mod.create(flags);
}

/**
 * Points the Vulkan loader at SwiftShader on a machine with no GPU. Must run before Dawn's first
 * `create()`. Leaves any driver choice the user made (`VK_ICD_FILENAMES`, `VK_DRIVER_FILES`) alone.
 * This project's Node tools and tests make that choice first (src/node/webgpu-runtime.ts, which also
 * brings the packaged SwiftShader); this minimal hook serves library users with Debian's chromium.
 */
async function configureNodeVulkan(): Promise<void> {
  const env = process.env;
  env.XDG_RUNTIME_DIR ??= '/tmp'; // silences Dawn's "XDG_RUNTIME_DIR is invalid" on headless machines
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || process.platform !== 'linux') return;
  const fsName = 'node:fs';
  const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs');
  if (!fs.existsSync(SWIFTSHADER_ICD)) return;
  const hasGpuNode =
    (fs.existsSync('/dev/dri') && fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'))) ||
    fs.existsSync('/dev/nvidia0');
  if (hasGpuNode)
    env.VK_ADD_DRIVER_FILES ??= SWIFTSHADER_ICD; // hardware first, SwiftShader as fallback
  else env.VK_ICD_FILENAMES = SWIFTSHADER_ICD; // only SwiftShader: no noisy probing of absent drivers
}

/**
 * Requests an adapter and a device with the limits this library can use raised to the adapter's.
 * In Node, a hardware adapter is preferred and SwiftShader is the fallback.
 */
export async function requestGpuDevice(options: DeviceOptions = {}): Promise<OwnedDevice> {
  if (options.robustness !== undefined && typeof options.robustness !== 'boolean') {
    throw new Error(`robustness is ${describeValue(options.robustness)}: expected true or false`);
  }
  const { gpu, robustness } = await platformGpu(options);
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    const hint = isNode()
      ? `On Linux without a GPU, WebGPU needs a Vulkan loader and a software driver (SwiftShader): \`apt-get install chromium libvulkan1\` provides both (${SWIFTSHADER_ICD}); without root, \`npm install @sparticuz/chromium\` and call findWebGpuRuntime() from webgpu-mlp/node before the first network (see the README). Or set VK_ICD_FILENAMES to a Vulkan driver.`
      : 'The browser has WebGPU but no usable GPU adapter: check chrome://gpu (or about:support), update the graphics driver, or enable the fallback adapter.';
    throw new Error(`WebGPU returned no adapter. ${hint}`);
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const requiredFeatures = [
    ...WANTED_FEATURES.filter((f) => adapter.features.has(f)),
    ...(options.requiredFeatures ?? []),
  ];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: options.label ?? 'webgpu-mlp.device',
      requiredFeatures,
      requiredLimits,
    });
  } catch (cause) {
    throw new Error(
      `requestDevice failed on ${describeAdapter(summariseAdapter(adapter.info))}: ${(cause as Error).message ?? cause}`,
      { cause },
    );
  }
  keepAlive(device, gpu);
  return {
    device,
    adapterInfo: summariseAdapter(adapter.info),
    gpu,
    // Read off the flags Dawn was given: off where asked, or where the caller's own flags turned it off.
    robustness,
  };
}

/** Where a device keeps the GPU object it came from (see keepAlive). */
const GPU_OF_DEVICE = Symbol.for('webgpu-mlp.gpu');

/**
 * Ties the GPU object to the device, so that code which keeps only the device (`const { device } =
 * await requestGpuDevice()`) keeps Dawn's instance too: in Node, Dawn tears its instance down when the
 * GPU object is garbage-collected, and every device of it dies with it (the process aborts).
 */
function keepAlive(device: GPUDevice, gpu: GPU): void {
  try {
    Object.defineProperty(device, GPU_OF_DEVICE, { value: gpu, enumerable: false, configurable: true });
  } catch {
    // A device object that refuses properties: the caller must keep `gpu` (as OwnedDevice says).
  }
}
