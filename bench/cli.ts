/**
 * `npm run bench`: the benchmark suites (src/bench) in Node on Dawn, a table on the terminal and
 * the report as JSON (default bench-results/bench-<date>.json). Exits 1 when a figure fails its
 * check against the reference, 2 on bad options.
 */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkOutputPaths, writeFileAtomic } from '../src/cli/files.js';
import { loadMnistNode } from '../src/data/mnist_node.js';
import { describeAdapter } from '../src/gpu/adapter.js';
import { GpuContext } from '../src/gpu/context.js';
import { spaceOutDawnPolling } from '../src/gpu/polling.js';
import { createMLP } from '../src/mlp.js';
import { findWebGpuRuntime, runtimeRequest, type WebGpuRuntime } from '../src/node/webgpu-runtime.js';
import { BENCH_HELP, defaultReportPath, parseBenchArgs } from './args.js';
import { formatRace, runRace } from './race.js';
import { runBench } from './run.js';
import { formatSetup, runSetupProbes } from './setup.js';
import { formatTable } from './table.js';
import { formatTableBench, runTableBench } from './tables.js';
import { nodeTfjsLoader } from './tfjs_node.js';
import type { BenchReport } from './types.js';

/** Dawn quantises timestamps to 2¹⁶ ns unless this toggle is off. */
export const NODE_FLAGS = ['disable-dawn-features=timestamp_quantization'];

export interface CliIo {
  log: (line: string) => void;
  error: (line: string) => void;
}

export interface CliResult {
  code: number;
  report?: BenchReport;
  path?: string;
}

/** Runs the CLI on `argv` (without node and the script). Never throws; returns the exit code and the report. */
export async function runBenchCli(argv: readonly string[], io: CliIo = console): Promise<CliResult> {
  let args: ReturnType<typeof parseBenchArgs>;
  try {
    args = parseBenchArgs(argv);
    // Before any work: a run of many minutes must not end in a report it cannot write.
    if (!args.help) checkOutputPaths({ '--out': args.out ?? defaultReportPath(new Date()) });
    runtimeRequest(); // an unknown WEBGPU_MLP_RUNTIME is an error before any work
  } catch (error) {
    io.error(`bench: ${(error as Error).message}`);
    return { code: 2 };
  }
  if (args.help) {
    io.log(BENCH_HELP);
    return { code: 0 };
  }
  let ctx: GpuContext;
  let runtime: WebGpuRuntime;
  try {
    // Before Dawn's first create(): a GPU, the system's SwiftShader or the packaged one (src/node/webgpu-runtime.ts).
    runtime = findWebGpuRuntime();
    if (runtime.kind === 'none') throw new Error(`no WebGPU runtime: ${runtime.problem}`);
    ctx = await GpuContext.create({ label: 'bench.device', nodeFlags: NODE_FLAGS });
  } catch (error) {
    io.error(`bench: no WebGPU device: ${(error as Error).message}`);
    return { code: 1 };
  }
  // A software adapter runs on the CPU cores that Dawn's busy polling would otherwise take.
  const restorePolling = ctx.adapter?.isSoftware ? spaceOutDawnPolling() : () => {};
  try {
    io.log(
      `adapter: ${ctx.adapter ? describeAdapter(ctx.adapter) : 'unknown'}; kernels: ${ctx.kernelPreference} (untuned default); tune: ${args.tune ?? 'both'}`,
    );
    io.log(`environment: ${nodeEnvironment(runtime, ctx)}`);
    const stamp = new Date();
    if (args.vs === 'tfjs') return await race(args, ctx, runtime, io, stamp);
    if (args.tables) return await tables(args, ctx, runtime, io, stamp);
    // Setup first, in new processes, while the machine is as it was when the command started.
    const setup = args.setup || (!args.suites && !args.quick) ? runSetupProbes((line) => io.log(line)) : undefined;
    if (args.setup && setup) {
      io.log('');
      io.log(formatSetup(setup));
      const path = resolve(args.out ?? defaultReportPath(stamp, 'setup'));
      writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(setup, null, 2)}\n`));
      io.log(`wrote ${path}`);
      return { code: setup.failures.length ? 1 : 0 };
    }
    const report = await runBench(ctx, {
      quick: args.quick,
      suites: args.suites?.includes('step_cpu') ? [...args.suites, 'step'] : args.suites,
      reps: args.reps,
      maxFigureS: args.maxFigureS,
      tune: args.tune,
      models: args.models,
      environment: {
        runtime: 'node',
        version: nodeEnvironment(runtime, ctx),
      },
      log: (line) => io.log(line),
      mnist: () => loadMnistNode(),
    });
    if (report.timing.quantized) {
      io.error(
        `bench: warning: timestamps are still quantised to ${report.timing.resolutionNs} ns although Dawn was given ${NODE_FLAGS.join(' ')}; samples were lengthened to compensate`,
      );
    }
    const path = resolve(args.out ?? defaultReportPath(new Date(report.date)));
    io.log('');
    io.log(formatTable(report)); // first: the table survives a write that fails after all
    if (setup) {
      io.log('');
      io.log(formatSetup(setup));
    }
    io.log('');
    const saved = setup ? { ...report, setup } : report;
    writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(saved, null, 2)}\n`));
    io.log(`wrote ${path}`);
    const failed = report.figures.filter((f) => f.status === 'failed');
    if (failed.length) {
      io.error(`bench: ${failed.length} figure(s) failed: ${failed.map((f) => f.name).join('; ')}`);
      return { code: 1, report, path };
    }
    return { code: 0, report, path };
  } catch (error) {
    io.error(`bench: ${(error as Error).stack ?? error}`);
    return { code: 1 };
  } finally {
    restorePolling();
    ctx.destroy();
  }
}

/** `--tables`: tables from file to saved model, and the CSV stream (bench/tables.ts), and its JSON report. */
async function tables(
  args: ReturnType<typeof parseBenchArgs>,
  ctx: GpuContext,
  runtime: WebGpuRuntime,
  io: CliIo,
  stamp: Date,
): Promise<CliResult> {
  const dataDir = join(dirname(dirname(createRequire(import.meta.url).resolve('vega-datasets'))), 'data');
  const report = await runTableBench({
    dataDir,
    streamGb: args.streamGb,
    environment: nodeEnvironment(runtime, ctx),
    adapter: ctx.adapter ? describeAdapter(ctx.adapter) : 'unknown',
    log: (line) => io.log(line),
  });
  io.log('');
  io.log(formatTableBench(report));
  const path = resolve(args.out ?? defaultReportPath(stamp, 'tables'));
  writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
  io.log(`wrote ${path}`);
  return { code: 0, path };
}

/** Node, Dawn, the runtime, and whether Dawn checks the bounds of every buffer access (DeviceOptions.robustness). */
function nodeEnvironment(runtime: WebGpuRuntime, ctx: GpuContext): string {
  const checks = ctx.robustness === false ? 'off (the kernels keep in bounds)' : 'on';
  return `Node ${process.versions.node}, webgpu (Dawn) on ${process.platform}, ${runtime.summary}; Dawn's bounds checks ${checks}`;
}

/** `--vs tfjs`: the race against TF.js (bench/race.ts), its table and its JSON report. */
async function race(
  args: ReturnType<typeof parseBenchArgs>,
  ctx: GpuContext,
  runtime: WebGpuRuntime,
  io: CliIo,
  stamp: Date,
): Promise<CliResult> {
  const adapter = ctx.adapter ? describeAdapter(ctx.adapter) : 'unknown';
  // Our networks share one device made for the race (its first case pays for it), as TF.js keeps its
  // backend from case to case: the pipelines compiled for one case serve the next (GpuContext).
  let device: Promise<GpuContext> | undefined;
  let report: Awaited<ReturnType<typeof runRace>>;
  try {
    report = await runRace({
      mode: args.quick ? 'quick' : 'full',
      contenders: args.contenders,
      rounds: args.rounds,
      createMLP: async (options) => {
        device ??= GpuContext.create();
        return createMLP({ ...options, device: (await device).device });
      },
      tfjs: nodeTfjsLoader(),
      mnist: async () => (await loadMnistNode()).train,
      log: (line) => io.log(line),
      environment: nodeEnvironment(runtime, ctx),
      adapter,
    });
  } finally {
    (await device?.catch(() => undefined))?.destroy();
  }
  io.log('');
  io.log(formatRace(report));
  const path = resolve(args.out ?? defaultReportPath(stamp, 'race'));
  writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
  io.log(`wrote ${path}`);
  const errors = report.results.flatMap((r) =>
    r.runs.filter((x) => x.contender === 'webgpu-mlp' && x.status === 'error'),
  );
  return { code: errors.length ? 1 : 0, path };
}

// Run when executed (node dist/node/bench.js), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runBenchCli(process.argv.slice(2)).then(
    (r) => process.exit(r.code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
