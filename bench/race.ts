/**
 * The race against TF.js (`npm run bench -- --vs tfjs`, and the bench page's "Race" button): the same
 * network, data, batch size, optimizer (Adam) and epochs, trained by webgpu-mlp and by TF.js 4.22 —
 * its webgpu backend on the same adapter, and its wasm backend as the CPU reference — one after the
 * other, alternating which goes first. Each run reports its setup (everything before the epochs:
 * the device, compiling shaders, buffers) apart from its steady epochs, and its first and last
 * training loss; a race in which either side did not learn, or the two ended at losses that are not
 * comparable, is void.
 *
 * TF.js is a devDependency that only this file's callers load, lazily (`TfjsLoader`): nothing here
 * imports it at run time, and nothing in src/ imports this file.
 */
import type { MLP } from '../src/mlp.js';
import { mulberry32 } from '../src/model/random.js';

/** One race: a network and its data. Adam at `learningRate`, batch `batch`, `epochs` epochs. */
export interface RaceCase {
  name: string;
  /** What the data is: synthetic tables (Gaussian classes), two spirals, or MNIST images. */
  data: 'table' | 'spirals' | 'mnist';
  layers: number[];
  /** Training rows. */
  rows: number;
  batch: number;
  epochs: number;
  learningRate: number;
}

/**
 * The four table shapes of the issue (sklearn's digits, breast cancer, wine, and a 10-feature table:
 * 1,347, 426, 133 and 353 training rows; [D, 100, C], Adam, batch min(200, n), 200 epochs — the
 * defaults of scikit-learn's MLPClassifier), two spirals, and MNIST at two sizes.
 */
export type RaceMode = 'tiny' | 'quick' | 'full';

export function raceCases(mode: RaceMode): RaceCase[] {
  const quick = mode !== 'full';
  const table = (name: string, D: number, C: number, rows: number): RaceCase => ({
    name,
    data: 'table',
    layers: [D, 100, C],
    rows,
    batch: Math.min(200, rows),
    epochs: quick ? 20 : 200,
    learningRate: 0.001,
  });
  if (mode === 'tiny') {
    // For the page's test: seconds, even for TF.js's webgpu backend on SwiftShader.
    return [
      { ...table('table 13×3', 13, 3, 64), epochs: 30, learningRate: 0.01 },
      { name: 'spirals', data: 'spirals', layers: [2, 16, 2], rows: 64, batch: 64, epochs: 60, learningRate: 0.05 },
    ];
  }
  if (quick) {
    return [
      table('table 64×10', 64, 10, 400),
      table('table 13×3', 13, 3, 133),
      {
        name: 'spirals',
        data: 'spirals',
        layers: [2, 32, 32, 2],
        rows: 200,
        batch: 64,
        epochs: 10,
        learningRate: 0.02,
      },
      { name: 'MNIST S', data: 'mnist', layers: [784, 64, 10], rows: 512, batch: 128, epochs: 2, learningRate: 0.001 },
    ];
  }
  return [
    table('table 64×10', 64, 10, 1347),
    table('table 30×2', 30, 2, 426),
    table('table 13×3', 13, 3, 133),
    table('table 10×2', 10, 2, 353),
    { name: 'spirals', data: 'spirals', layers: [2, 32, 32, 2], rows: 400, batch: 64, epochs: 50, learningRate: 0.02 },
    { name: 'MNIST', data: 'mnist', layers: [784, 256, 10], rows: 3840, batch: 128, epochs: 2, learningRate: 0.001 },
    {
      name: 'MNIST L',
      data: 'mnist',
      layers: [784, 1024, 1024, 10],
      rows: 2048,
      batch: 1024,
      epochs: 2,
      learningRate: 0.001,
    },
  ];
}

/** A case's data: features [rows, D] and class labels [rows]. */
export interface RaceData {
  x: Float32Array;
  y: Uint32Array;
}

/**
 * Synthetic data of a case's shape, the same for every contender (seeded): C Gaussian classes with
 * centres drawn in [−1, 1]^D, standard deviation 0.8 (overlapping, so the loss does not reach 0); two
 * spirals with noise; or the first `rows` MNIST training images scaled to [0, 1].
 */
export function raceData(c: RaceCase, mnist?: { images: Uint8Array; labels: Uint8Array }): RaceData {
  const D = c.layers[0] as number;
  const C = c.layers[c.layers.length - 1] as number;
  const n = c.rows;
  const rand = mulberry32(7 + D * 31 + C);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const x = new Float32Array(n * D);
  const y = new Uint32Array(n);
  if (c.data === 'mnist') {
    if (!mnist) throw new Error(`${c.name}: needs MNIST`);
    for (let i = 0; i < n * D; i++) x[i] = (mnist.images[i] as number) / 255;
    for (let i = 0; i < n; i++) y[i] = mnist.labels[i] as number;
  } else if (c.data === 'spirals') {
    for (let i = 0; i < n; i++) {
      const k = i % 2;
      const t = (i / n) * 3 * Math.PI + 0.5;
      y[i] = k;
      x[2 * i] = ((k ? -1 : 1) * t * Math.cos(t)) / 10 + 0.05 * gauss();
      x[2 * i + 1] = ((k ? -1 : 1) * t * Math.sin(t)) / 10 + 0.05 * gauss();
    }
  } else {
    const centres = Float32Array.from({ length: C * D }, () => 2 * rand() - 1);
    for (let i = 0; i < n; i++) {
      const k = i % C;
      y[i] = k;
      for (let d = 0; d < D; d++) x[i * D + d] = (centres[k * D + d] as number) + 0.8 * gauss();
    }
  }
  return { x, y };
}

export const CONTENDERS = ['webgpu-mlp', 'tfjs-webgpu', 'tfjs-wasm'] as const;
export type Contender = (typeof CONTENDERS)[number];

/** One contender's run of a case. total = setup + epochs × steady, all wall-clock. */
export interface RaceRun {
  contender: Contender;
  status: 'ok' | 'error' | 'skipped';
  note?: string;
  /** Before the first step: the device (ours) or backend, the model, compiling shaders, buffers. */
  setupMs?: number;
  /** One epoch in steady state. */
  epochMs?: number;
  /** Everything, as a user waits for it: model creation to the end of fit. */
  totalMs?: number;
  firstLoss?: number;
  finalLoss?: number;
}

export interface RaceResult {
  case: RaceCase;
  /**
   * Each contender's run; with several rounds, its median run by total time (the lower of the two
   * middle ones for an even count; a failed round's run instead, if any failed).
   */
  runs: RaceRun[];
  /** With several rounds (RaceOptions.rounds): every round's runs, in the order of `runs`. */
  rounds?: RaceRun[][];
  /** Both learned and ended at comparable losses in every round (see `judge`); a void race says why in `note`. */
  valid: boolean;
  note: string;
  /** TF.js webgpu ÷ webgpu-mlp: steady epoch time and total time (higher is better for us). */
  vsWebgpu?: { epoch: number; total: number };
  /** TF.js wasm ÷ webgpu-mlp, the same. */
  vsWasm?: { epoch: number; total: number };
}

export const RACE_SCHEMA = 'webgpu-mlp-race/1';

export interface RaceReport {
  schema: typeof RACE_SCHEMA;
  date: string;
  mode: RaceMode;
  environment: string;
  adapter: string;
  tfjs: string;
  /** Rounds per case (RaceOptions.rounds); absent in reports of one round. */
  rounds?: number;
  results: RaceResult[];
}

/** TF.js, loaded by the caller (Node or the page) with a backend set: core and layers. */
export interface Tfjs {
  // Typed loosely on purpose: the library's types must not depend on TF.js's.
  // biome-ignore lint/suspicious/noExplicitAny: TF.js namespaces, loaded at run time
  tf: any;
  // biome-ignore lint/suspicious/noExplicitAny: TF.js namespaces, loaded at run time
  tfl: any;
  version: string;
}

/** Loads TF.js and makes `backend` current; rejects when the backend cannot run here. */
export type TfjsLoader = (backend: 'webgpu' | 'wasm') => Promise<Tfjs>;

export interface RaceOptions {
  /** Which cases (raceCases): default 'full'. */
  mode?: RaceMode;
  cases?: RaceCase[];
  /**
   * Creates our network. The CLI and the page keep one device for the whole race, made by the first
   * case (which pays for it), as TF.js keeps its backend (and its WebGPU program cache) from case to
   * case: a case's setup is then its own pipelines and buffers. A cold start in a new process is
   * `npm run bench -- --setup`'s figure.
   */
  createMLP: (options: { layers: number[]; seed: number }) => Promise<MLP>;
  tfjs: TfjsLoader;
  /** MNIST training images and labels, for the MNIST cases (skipped without). */
  mnist?: () => Promise<{ images: Uint8Array; labels: Uint8Array }>;
  contenders?: Contender[];
  /**
   * How many times each case is raced (default 1), alternating which contender goes first from round
   * to round; each contender's median run is the case's (RaceResult.runs), every run is kept
   * (RaceResult.rounds). A fit of a small table takes a few hundred milliseconds, where one disturbed
   * run moves a single race's ratio by 10–20% either way (docs/benchmarks.md).
   */
  rounds?: number;
  log?: (line: string) => void;
  /** Called after each case, with the results so far (the page draws them as they come). */
  onResult?: (result: RaceResult) => void;
  environment: string;
  adapter: string;
}

const now = () => performance.now();

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function runOurs(c: RaceCase, data: RaceData, options: RaceOptions): Promise<RaceRun> {
  const t0 = now();
  const mlp = await options.createMLP({ layers: c.layers, seed: 1 });
  const created = now() - t0;
  try {
    const results = await mlp.fit(data.x, data.y, {
      epochs: c.epochs,
      batchSize: c.batch,
      optimizer: 'adam',
      learningRate: c.learningRate,
      seed: 1,
    });
    const totalMs = now() - t0;
    const setupMs = created + (results[0]?.setupMs ?? 0);
    return {
      contender: 'webgpu-mlp',
      status: 'ok',
      setupMs,
      epochMs: (totalMs - setupMs) / c.epochs,
      totalMs,
      firstLoss: results[0]?.trainLoss,
      finalLoss: results.at(-1)?.trainLoss,
    };
  } finally {
    await mlp.destroy();
  }
}

async function runTfjs(c: RaceCase, data: RaceData, backend: 'webgpu' | 'wasm', load: TfjsLoader): Promise<RaceRun> {
  const contender: Contender = backend === 'webgpu' ? 'tfjs-webgpu' : 'tfjs-wasm';
  const t0 = now();
  const { tf, tfl } = await load(backend);
  const D = c.layers[0] as number;
  const C = c.layers[c.layers.length - 1] as number;
  const model = tfl.sequential();
  c.layers.slice(1).forEach((units, l) => {
    const last = l === c.layers.length - 2;
    model.add(
      tfl.layers.dense({
        units,
        activation: last ? 'softmax' : 'relu',
        kernelInitializer: last ? 'glorotUniform' : 'heNormal',
        ...(l === 0 ? { inputShape: [D] } : {}),
      }),
    );
  });
  model.compile({ optimizer: tf.train.adam(c.learningRate), loss: 'categoricalCrossentropy' });
  const xs = tf.tensor2d(data.x, [c.rows, D]);
  const labels = tf.tensor1d(Int32Array.from(data.y), 'int32');
  const ys = tf.oneHot(labels, C);
  const ends: number[] = [];
  try {
    const history = await model.fit(xs, ys, {
      epochs: c.epochs,
      batchSize: c.batch,
      shuffle: true,
      verbose: 0,
      callbacks: { onEpochEnd: async () => void ends.push(now()) },
    });
    const totalMs = now() - t0;
    // Setup: up to the end of the first epoch, less one steady epoch (the median of the later ones);
    // then, as for ours, epoch = (total − setup) / epochs.
    const deltas = ends.slice(1).map((t, i) => t - (ends[i] as number));
    const first = (ends[0] ?? t0) - t0;
    const setupMs = deltas.length ? Math.max(0, first - median(deltas)) : 0;
    const losses = history.history.loss as number[];
    return {
      contender,
      status: 'ok',
      setupMs,
      epochMs: (totalMs - setupMs) / c.epochs,
      totalMs,
      firstLoss: losses[0],
      finalLoss: losses.at(-1),
    };
  } finally {
    tf.dispose([xs, labels, ys]);
    model.dispose();
  }
}

/**
 * Whether a race counts: every run finished, each contender's last loss is under 90% of the loss of
 * chance (ln C: it learned), and the last losses are within 1.5× + 0.05 of each other.
 */
export function judge(c: RaceCase, runs: readonly RaceRun[]): { valid: boolean; note: string } {
  const C = c.layers[c.layers.length - 1] as number;
  const chance = Math.log(C);
  const failed = runs.filter((r) => r.status !== 'ok');
  if (failed.length) return { valid: false, note: failed.map((r) => `${r.contender}: ${r.note}`).join('; ') };
  const losses = runs.map((r) => r.finalLoss as number);
  const stuck = runs.filter((r) => !((r.finalLoss as number) < 0.9 * chance));
  if (stuck.length) {
    return {
      valid: false,
      note: `did not learn (last loss not under 0.9 × ln ${C} = ${(0.9 * chance).toFixed(3)}): ${stuck.map((r) => `${r.contender} ${r.finalLoss?.toFixed(3)}`).join(', ')}`,
    };
  }
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  if (hi > 1.5 * lo + 0.05) {
    return { valid: false, note: `last losses not comparable: ${losses.map((l) => l.toFixed(3)).join(' vs ')}` };
  }
  return { valid: true, note: `last losses ${losses.map((l) => l.toFixed(3)).join(', ')}` };
}

function ratio(theirs: RaceRun | undefined, ours: RaceRun | undefined): { epoch: number; total: number } | undefined {
  if (theirs?.status !== 'ok' || ours?.status !== 'ok') return undefined;
  return {
    epoch: (theirs.epochMs as number) / (ours.epochMs as number),
    total: (theirs.totalMs as number) / (ours.totalMs as number),
  };
}

/**
 * Runs the race: every case, every contender, `rounds` times, alternating which contender goes first
 * from case to case and from round to round.
 */
export async function runRace(options: RaceOptions): Promise<RaceReport> {
  const log = options.log ?? (() => {});
  const cases = options.cases ?? raceCases(options.mode ?? 'full');
  const contenders = options.contenders ?? [...CONTENDERS];
  const rounds = options.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`rounds = ${rounds} is invalid: expected an integer ≥ 1`);
  const results: RaceResult[] = [];
  let tfjsVersion = 'not loaded';
  let mnist: { images: Uint8Array; labels: Uint8Array } | undefined;
  const byContender = (a: RaceRun, b: RaceRun) => contenders.indexOf(a.contender) - contenders.indexOf(b.contender);
  for (const [index, c] of cases.entries()) {
    let data: RaceData | undefined;
    const all: RaceRun[][] = [];
    try {
      if (c.data === 'mnist' && !mnist) {
        if (!options.mnist) throw new Error('no MNIST loader');
        mnist = await options.mnist();
      }
      data = raceData(c, mnist);
    } catch (error) {
      const note = `no data: ${error instanceof Error ? error.message : String(error)}`;
      all.push(contenders.map((contender) => ({ contender, status: 'skipped', note })));
    }
    for (let round = 0; data && round < rounds; round++) {
      const order = (index + round) % 2 === 0 ? contenders : [...contenders].reverse();
      const of = rounds > 1 ? ` (round ${round + 1} of ${rounds})` : '';
      const runs: RaceRun[] = [];
      for (const contender of order) {
        log(`race ${c.name}${of}: ${contender} …`);
        let run: RaceRun;
        try {
          if (contender === 'webgpu-mlp') run = await runOurs(c, data, options);
          else {
            const backend = contender === 'tfjs-webgpu' ? 'webgpu' : 'wasm';
            run = await runTfjs(c, data, backend, async (b) => {
              const loaded = await options.tfjs(b);
              tfjsVersion = loaded.version;
              return loaded;
            });
          }
        } catch (error) {
          run = { contender, status: 'error', note: error instanceof Error ? error.message : String(error) };
        }
        log(`  ${describeRun(run)}`);
        runs.push(run);
      }
      all.push(runs.sort(byContender));
    }
    const runs = contenders.map((contender) =>
      medianRun(all.map((round) => round.find((r) => r.contender === contender) as RaceRun)),
    );
    const ours = runs.find((r) => r.contender === 'webgpu-mlp');
    // Void when any round is: a contender that did not learn once is not a contender that learns.
    const verdict = all.map((round) => judge(c, round)).find((v) => !v.valid) ?? judge(c, runs);
    const result: RaceResult = {
      case: c,
      runs,
      ...(all.length > 1 && { rounds: all }),
      ...verdict,
      vsWebgpu: ratio(
        runs.find((r) => r.contender === 'tfjs-webgpu'),
        ours,
      ),
      vsWasm: ratio(
        runs.find((r) => r.contender === 'tfjs-wasm'),
        ours,
      ),
    };
    results.push(result);
    options.onResult?.(result);
  }
  return {
    schema: RACE_SCHEMA,
    date: new Date().toISOString(),
    mode: options.mode ?? 'full',
    environment: options.environment,
    adapter: options.adapter,
    tfjs: tfjsVersion,
    ...(rounds > 1 && { rounds }),
    results,
  };
}

/**
 * One contender's runs of a case, one per round, as one: the first that did not finish, if any, else
 * the median by total time (the lower of the two middle ones for an even count).
 */
export function medianRun(runs: readonly RaceRun[]): RaceRun {
  if (runs.length === 0) throw new Error('medianRun: no runs');
  const failed = runs.find((r) => r.status !== 'ok');
  if (failed) return failed;
  const sorted = [...runs].sort((a, b) => (a.totalMs as number) - (b.totalMs as number));
  return sorted[(sorted.length - 1) >> 1] as RaceRun;
}

export function describeRun(r: RaceRun): string {
  if (r.status !== 'ok') return `${r.contender}: ${r.status} (${r.note})`;
  return `${r.contender}: setup ${fmtMs(r.setupMs)}, ${fmtMs(r.epochMs)}/epoch, total ${fmtMs(r.totalMs)}, loss ${r.firstLoss?.toFixed(3)} → ${r.finalLoss?.toFixed(3)}`;
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms >= 10 ? ms.toFixed(0) : ms.toFixed(2)} ms`;
}

/** The race as rows of cells: case, then per contender setup / epoch / total, then the ratios and the verdict. */
export const RACE_HEADER = [
  'case',
  'shape, rows, batch, epochs',
  'ours setup',
  'ours /epoch',
  'ours total',
  'tfjs-webgpu /epoch',
  'tfjs-webgpu total',
  'tfjs-wasm total',
  '× webgpu (epoch, total)',
  '× wasm (total)',
  'valid',
];

export function raceCells(r: RaceResult): string[] {
  const run = (c: Contender) => r.runs.find((x) => x.contender === c);
  const cell = (c: Contender, k: 'setupMs' | 'epochMs' | 'totalMs') => {
    const x = run(c);
    return x?.status === 'ok' ? fmtMs(x[k]) : (x?.status ?? '—');
  };
  const x = (v: number | undefined) => (v === undefined ? '—' : `${v.toFixed(1)}×`);
  return [
    r.case.name,
    `[${r.case.layers.join(',')}] ${r.case.rows} B=${r.case.batch} ${r.case.epochs} ep`,
    cell('webgpu-mlp', 'setupMs'),
    cell('webgpu-mlp', 'epochMs'),
    cell('webgpu-mlp', 'totalMs'),
    cell('tfjs-webgpu', 'epochMs'),
    cell('tfjs-webgpu', 'totalMs'),
    cell('tfjs-wasm', 'totalMs'),
    r.vsWebgpu ? `${x(r.vsWebgpu.epoch)}, ${x(r.vsWebgpu.total)}` : '—',
    x(r.vsWasm?.total),
    r.valid ? 'yes' : `void: ${r.note}`,
  ];
}

/** The race as a Markdown table (the terminal and docs/benchmarks.md). */
export function formatRace(report: RaceReport): string {
  const rows = [RACE_HEADER, ...report.results.map(raceCells)];
  const lines = rows.map((cells) => `| ${cells.join(' | ')} |`);
  lines.splice(1, 0, `|${RACE_HEADER.map(() => '---').join('|')}|`);
  const rounds = report.rounds && report.rounds > 1 ? `, each contender's median of ${report.rounds} rounds` : '';
  return [`race vs TF.js ${report.tfjs} on ${report.adapter} (${report.environment})${rounds}`, ...lines].join('\n');
}
