/** Command-line options of `npm run bench`, parsed and validated before any GPU work. */
import { bad, forEachFlag, int, num, path } from '../src/cli/flags.js';
import { CONTENDERS, type Contender } from './race.js';
import { STEP_MODELS, type StepModelName, type TuneSetting } from './step.js';
import { SUITES, type SuiteName } from './types.js';

export interface BenchArgs {
  quick: boolean;
  /** Where to write the JSON; undefined: bench-results/bench-<date>.json. */
  out: string | undefined;
  suites: SuiteName[] | undefined;
  reps: number | undefined;
  maxFigureS: number | undefined;
  /** Untuned and tuned step figures (`both`), or one kind; undefined: both. */
  tune: TuneSetting | undefined;
  /** Step models to time; undefined: S (quick) or all. */
  models: StepModelName[] | undefined;
  /** `tfjs`: only the race against TF.js (bench/race.ts). */
  vs: 'tfjs' | undefined;
  /** The race's contenders; undefined: all three. */
  contenders: Contender[] | undefined;
  /** Rounds of the race (RaceOptions.rounds); undefined: 1. */
  rounds: number | undefined;
  /** Only the setup probes (a network's setup in a new process, bench/setup_probe.ts). */
  setup: boolean;
  /** Only the tables: file to saved model, and the CSV stream (bench/tables.ts). */
  tables: boolean;
  /** The size of the generated CSV stream, in GB (0: none). */
  streamGb: number;
  help: boolean;
}

export const BENCH_HELP = `Usage: npm run bench -- [options]

Times the WebGPU kernels and whole training steps, each checked once against the Float64
reference, and writes a table to the terminal and every figure to a JSON file.

Suites: matmul (A·B, A·Bᵀ, Aᵀ·B at 256…4096 and the MLP shapes, GFLOP/s); softmax_xent,
activation, optimizer (GB/s against the bytes they must move); step (whole training steps of
S [784,128,10] B=128, S256 [784,256,10] B=128, M [784,1024,1024,10] B=1024,
L [784,4096,4096,4096,10] B=4096, samples/s,
with the Float64 CPU reference step for the ratio where that is practical), untuned and tuned side
by side; tune (what the tuner measured for the square sizes — also run with matmul — and, with
step, for every matmul shape of the tuned steps: every variant's time, its check and the pick); mnist (time to 98% test accuracy for
[784,256,10], momentum, B=128, untuned and tuned: full runs, or --suites mnist).

Options:
  --quick                 a subset: small sizes, model S only, few repetitions (under a minute on SwiftShader)
  --out PATH              where to write the JSON   (default bench-results/bench-<date>.json)
  --suites A,B,...        only these suites: ${SUITES.filter((s) => s !== 'step_cpu').join(', ')}   (default all)
  --reps N                timed samples per figure  (default 10, quick 3)
  --max-figure-s S        skip (or sample less) a figure estimated to take longer  (default 60, quick 20)
  --models A,B,...        step models: ${Object.keys(STEP_MODELS).join(', ')}   (default S when --quick, else all)
  --tune both|on|off      step and MNIST figures untuned and tuned, or only one kind  (default both;
                          off also skips tuning the square sizes)
  --setup                 only the setup probes: a network's setup in a new process, from the
                          process's start to its first step, with every pipeline compiled by kind
                          ([64,100,10], [13,100,3], [784,256,10]; also run first by a full bench,
                          not by --quick)
  --vs tfjs               only the race against TF.js 4.22 (webgpu backend on the same adapter, wasm
                          as the CPU reference): the four table shapes, spirals and MNIST, setup and
                          steady epochs apart, each checked to reach a comparable loss; with --quick,
                          small sizes. Writes bench-results/race-<date>.json
  --contenders A,B,...    the race's contenders: webgpu-mlp, tfjs-webgpu, tfjs-wasm   (default all)
  --rounds N              race each case N times, alternating who goes first, and compare each
                          contender's median run (every run is kept in the JSON)   (default 1)
  --tables                only the tables (issue 21): penguins, cars and Seattle weather from the
                          file to the saved model with the webgpu-mlp train defaults (reading,
                          shader compilation and writing included, beside samples/s), then a
                          generated CSV stream through the parser in bounded memory. Writes
                          bench-results/tables-<date>.json
  --stream-gb N           the generated CSV stream's size in GB, 0 for none  (default 4, quick 0.5)
  -h, --help              show this help

Open demo/bench.html (npm run demo) to run the same suites in the browser, plot them and compare
with an earlier JSON.
`;

/** Parses argv (without node and script). Throws on the first bad option. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = {
    quick: false,
    out: undefined,
    suites: undefined,
    reps: undefined,
    maxFigureS: undefined,
    tune: undefined,
    models: undefined,
    vs: undefined,
    contenders: undefined,
    rounds: undefined,
    setup: false,
    tables: false,
    streamGb: Number.NaN,
    help: false,
  };
  forEachFlag(argv, (f) => {
    const flag = f.name;
    const take = f.value;
    const noValue = f.none;
    switch (flag) {
      case '-h':
      case '--help':
        noValue();
        args.help = true;
        break;
      case '--quick':
        noValue();
        args.quick = true;
        break;
      case '--setup':
        noValue();
        args.setup = true;
        break;
      case '--tables':
        noValue();
        args.tables = true;
        break;
      case '--stream-gb':
        args.streamGb = num(flag, take(), 0, 1024);
        break;
      case '--contenders': {
        const v = take();
        const names = v.split(',').map((c) => c.trim());
        for (const c of names)
          if (!CONTENDERS.includes(c as Contender)) bad(flag, v, `comma-separated from ${CONTENDERS.join(', ')}`);
        args.contenders = names as Contender[];
        break;
      }
      case '--rounds':
        args.rounds = int(flag, take(), 1, 99);
        break;
      case '--vs': {
        const v = take();
        if (v !== 'tfjs') bad(flag, v, 'tfjs');
        args.vs = 'tfjs';
        break;
      }
      case '--out':
        args.out = path(flag, take());
        break;
      case '--suites': {
        const v = take();
        const names = v.split(',').map((s) => s.trim());
        for (const s of names) {
          if (!SUITES.includes(s as SuiteName)) bad(flag, v, `comma-separated suites from ${SUITES.join(', ')}`);
        }
        args.suites = names as SuiteName[];
        break;
      }
      case '--reps':
        args.reps = int(flag, take(), 1, 1000);
        break;
      case '--max-figure-s':
        args.maxFigureS = num(flag, take(), 0, 86_400, true);
        break;
      case '--models': {
        const v = take();
        const names = v.split(',').map((m) => m.trim());
        for (const m of names) {
          if (!Object.hasOwn(STEP_MODELS, m))
            bad(flag, v, `comma-separated models from ${Object.keys(STEP_MODELS).join(', ')}`);
        }
        args.models = names as StepModelName[];
        break;
      }
      case '--tune': {
        const v = take();
        if (v !== 'both' && v !== 'on' && v !== 'off') bad(flag, v, 'both, on or off');
        args.tune = v as TuneSetting;
        break;
      }
      default:
        f.unknown();
    }
  });
  if (Number.isNaN(args.streamGb)) args.streamGb = args.quick ? 0.5 : 4;
  else if (!args.tables) throw new Error('--stream-gb is for --tables. See --help.');
  if (args.rounds !== undefined && args.vs !== 'tfjs') throw new Error('--rounds is for --vs tfjs. See --help.');
  return args;
}

/** `bench-results/<kind>-2025-01-31T12-00-00.json` for a date (kind: bench, setup, tables, race). */
export function defaultReportPath(date: Date, kind = 'bench'): string {
  return `bench-results/${kind}-${date.toISOString().slice(0, 19).replace(/:/g, '-')}.json`;
}
