/**
 * The setup of a network in a new process (built to dist/node/setup_probe.js; `npm run bench` spawns
 * it): from the process's start to its first epoch, split into loading the library, finding the
 * WebGPU runtime, creating the network (device, parameters, the optimizer's pipeline) and fit's setup
 * (the step plan: pipelines and buffers), with every pipeline compiled and how long it took, by kind.
 * Prints one JSON line (SetupProbe). Usage: node setup_probe.js 64,100,10 1347
 */
import { findWebGpuRuntime } from '../src/node/webgpu-runtime.js';

export interface SetupProbe {
  layers: number[];
  rows: number;
  /** Node's start to this module running (performance.now() counts from the process's start). */
  startMs: number;
  /** Finding (and on first use unpacking) the WebGPU runtime. */
  runtimeMs: number;
  /** Importing the library. */
  importMs: number;
  /** The device request and createMLP: the parameters, the optimizer's pipeline. */
  createMs: number;
  /** fit's call to its first checkpoint, just before the first step: the step plan's pipelines and buffers, the first gather. */
  fitSetupMs: number;
  /** The process's start to the end of fit's setup: what a new user waits before the first step. */
  totalMs: number;
  /**
   * CPU time of the process (every thread: Dawn's and SwiftShader's compiler and workers) from its start
   * to the end of fit's setup: the work, which a loaded machine stretches less than the wall clock.
   */
  cpuMs: number;
  /** Every pipeline compiled before the first step: its kind (shader.entry point) and wall-clock ms. */
  pipelines: { kind: string; ms: number }[];
  adapter: string;
}

const startMs = performance.now();
const layers = (process.argv[2] ?? '64,100,10').split(',').map(Number);
const rows = Number(process.argv[3] ?? 1347);
let t = performance.now();
const runtime = findWebGpuRuntime();
if (runtime.kind === 'none') throw new Error(`no WebGPU runtime: ${runtime.problem}`);
const runtimeMs = performance.now() - t;
t = performance.now();
const { createMLP, describeAdapter, requestGpuDevice, spaceOutDawnPolling } = await import('./setup_probe_lib.js');
const importMs = performance.now() - t;
spaceOutDawnPolling();
// The library's own device request, with every pipeline's compilation timed.
t = performance.now();
// Without Dawn's bounds checks, as the device createMLP makes for itself (DeviceOptions.robustness).
const { device, gpu } = await requestGpuDevice({ robustness: false });
const compiled: { kind: string; ms: number; at: number }[] = [];
const compile = device.createComputePipelineAsync.bind(device);
device.createComputePipelineAsync = async (d) => {
  const s = performance.now();
  const p = await compile(d);
  compiled.push({
    kind: String(d.label ?? '?').replace(/\.pipeline$/, ''),
    ms: performance.now() - s,
    at: performance.now(),
  });
  return p;
};
const mlp = await createMLP({ layers, seed: 1, device });
const createMs = performance.now() - t;
const D = layers[0] as number;
const C = layers[layers.length - 1] as number;
const x = Float32Array.from({ length: rows * D }, (_, i) => Math.sin(i * 0.37));
const y = Uint32Array.from({ length: rows }, (_, i) => i % C);
// The first checkpoint comes right after fit's setup, before the first step.
let cpuMs = Number.NaN;
let firstCheckpoint = Number.NaN;
const onCheckpoint = () => {
  if (Number.isNaN(cpuMs)) {
    firstCheckpoint = performance.now();
    const u = process.cpuUsage();
    cpuMs = (u.user + u.system) / 1000;
  }
};
const fitStart = performance.now();
const [first] = await mlp.fit(x, y, {
  epochs: 1,
  batchSize: Math.min(200, rows),
  optimizer: 'adam',
  onCheckpoint,
});
// From the call to the first checkpoint, which comes once the run is ready for its first step: what fit
// does before it (the step plan, the loss before training), not only the run's own setupMs.
const fitSetupMs = firstCheckpoint - fitStart;
void first;
// Those compiled before the first step (the rest compiled behind it: src/kernels/matmul.ts).
const pipelines = compiled.filter((p) => p.at <= fitStart + fitSetupMs).map(({ kind, ms }) => ({ kind, ms }));
const probe: SetupProbe = {
  layers,
  rows,
  startMs,
  runtimeMs,
  importMs,
  createMs,
  fitSetupMs,
  totalMs: startMs + runtimeMs + importMs + createMs + fitSetupMs,
  cpuMs,
  pipelines,
  adapter: mlp.model.ctx.adapter ? describeAdapter(mlp.model.ctx.adapter) : 'unknown',
};
process.stdout.write(`${JSON.stringify(probe)}\n`);
await mlp.destroy();
device.destroy();
void gpu; // kept alive until here: Dawn frees its instance with it
process.exit(0);
