/**
 * `npm run bench -- --tables`: tables from file to saved model, and the CSV parser on a stream of
 * several GB (Node only).
 *
 * - **File to model**, for the vega-datasets tables of issue 21 (penguins, cars, Seattle weather): the
 *   wall-clock time from opening the file to the model file written — reading (streamed), encoding,
 *   the split, a new network on a new device (so every shader compiles: nothing is cached from an
 *   earlier run), training with the `webgpu-mlp train` defaults (src/table/defaults.ts), the
 *   validation report and the atomic write — with its parts, and the training's samples/s.
 * - **The parser in bounded memory**: a generated CSV stream (bytes made once per chunk and sent again,
 *   never stored) decoded from UTF-8 and parsed a chunk at a time (src/table/csv.ts), every field
 *   read as a number as the table reader would; MB/s, rows, and the process's resident memory before,
 *   at its peak and after: the parser holds one row, so the peak does not grow with the stream.
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/cli/files.js';
import { createMLP } from '../src/mlp.js';
import { CsvParser } from '../src/table/csv.js';
import { epochsFor, TABLE_DEFAULTS } from '../src/table/defaults.js';
import { type EncodeTableOptions, encodeTable } from '../src/table/encode.js';
import { readTable } from '../src/table/read.js';
import { trainTestSplit } from '../src/table/split.js';
import { parseNumber } from '../src/table/table.js';

export interface TableRun {
  table: string;
  rows: number;
  task: string;
  layers: number[];
  epochs: number;
  /** Everything, from opening the file to the model file written. */
  totalMs: number;
  /** Reading the file (streamed) and encoding it, with the split. */
  readMs: number;
  /** createMLP on a new device, and the first epoch's setup (compiling the step's shaders, its buffers). */
  setupMs: number;
  /** The epochs' training, validation included; the setup left out. */
  trainMs: number;
  /** Evaluating the validation rows, saving and writing the file. */
  saveMs: number;
  /** Training rows per second of the epochs' training time (fit's samplesPerSecond, averaged over the epochs). */
  samplesPerSecond: number;
  /** Validation accuracy (classification) or R² (regression). */
  score: number;
}

export interface StreamRun {
  bytes: number;
  rows: number;
  ms: number;
  mbPerSecond: number;
  /** Resident memory (MB) before, at its peak during, and after the stream. */
  rssBeforeMb: number;
  rssPeakMb: number;
  rssAfterMb: number;
}

export interface TableBenchReport {
  date: string;
  environment: string;
  adapter: string;
  tables: TableRun[];
  stream: StreamRun | undefined;
}

/** The tables and how `webgpu-mlp train` is told to read them (the README's commands). */
export const BENCH_TABLES: { file: string; options: EncodeTableOptions }[] = [
  { file: 'penguins.json', options: { target: 'Species', missing: 'drop' } },
  { file: 'cars.json', options: { target: 'Miles_per_Gallon', ignore: ['Name'], missing: 'drop' } },
  { file: 'seattle-weather.csv', options: { target: 'weather', ignore: ['date'] } },
];

/** File to saved model for one table, with the command's defaults. */
export async function fileToModel(
  path: string,
  name: string,
  options: EncodeTableOptions,
  out: string,
): Promise<TableRun> {
  const d = TABLE_DEFAULTS;
  const t0 = performance.now();
  const table = await readTable(createReadStream(path), { name });
  const data = encodeTable(table, options);
  const { train, test } = trainTestSplit(data, { testSize: d.validation, seed: d.seed });
  const t1 = performance.now();
  const layers = [data.features.length, ...d.hidden, data.outputs.length];
  const mlp = await createMLP({ layers, activation: d.activation, head: data.head, seed: d.seed });
  const t2 = performance.now();
  let results: Awaited<ReturnType<typeof mlp.fit>>;
  let score: number;
  let t3: number;
  try {
    const epochs = epochsFor(train.rows, d.batchSize);
    results = await mlp.fit(train, {
      epochs,
      batchSize: d.batchSize,
      optimizer: d.optimizer,
      seed: d.seed,
      validation: test,
      earlyStopping: { patience: d.patience, restoreBest: true },
    });
    t3 = performance.now();
    const e = await mlp.evaluate(test);
    score = data.task === 'classification' ? e.accuracy : (e.r2 ?? Number.NaN);
    writeFileAtomic(out, await mlp.save({ trainedWith: 'npm run bench -- --tables' }));
  } finally {
    await mlp.destroy();
  }
  const t4 = performance.now();
  const firstSetup = results[0]?.setupMs ?? 0;
  const epochMs = results.reduce((s, r) => s + r.epochMs, 0);
  return {
    table: name,
    rows: data.rows,
    task: data.task,
    layers,
    epochs: results.length,
    totalMs: t4 - t0,
    readMs: t1 - t0,
    setupMs: t2 - t1 + firstSetup,
    trainMs: t3 - t2 - firstSetup,
    saveMs: t4 - t3,
    samplesPerSecond: (train.rows * results.length) / (epochMs / 1000),
    score,
  };
}

/** A generated CSV (10 numeric columns and a category) through the parser, `gigabytes` of it. */
export async function streamThroughParser(gigabytes: number, log: (line: string) => void): Promise<StreamRun> {
  const header = 'id,a,b,c,d,e,f,g,h,i,j,kind\n';
  const row = (i: number) =>
    `${i},${(i % 97) * 0.5},-${(i % 13) * 1.25},3.75e2,${i % 7},0.001,"x, y",42,1e-3,${i % 1000},.5,${['red', 'green', 'blue'][i % 3]}\n`;
  let text = '';
  for (let i = 0; text.length < 1 << 20; i++) text += row(i);
  const chunk = new TextEncoder().encode(text); // 1 MiB of whole rows, sent again and again
  const total = Math.floor((gigabytes * 2 ** 30) / chunk.length);
  const mb = (n: number) => n / 2 ** 20;
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  let rows = 0;
  let numbers = 0;
  const parser = new CsvParser((fields) => {
    rows++;
    for (const f of fields) if (parseNumber(f) !== undefined) numbers++; // as the column builder reads cells
  });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const t0 = performance.now();
  parser.push(header);
  for (let k = 0; k < total; k++) {
    parser.push(decoder.decode(chunk, { stream: true }));
    if (k % 64 === 0) {
      peak = Math.max(peak, process.memoryUsage().rss);
      if (k % 1024 === 0 && k > 0)
        log(
          `  ${(k / total) * 100 < 10 ? ' ' : ''}${((k / total) * 100).toFixed(0)}%: ${rows.toLocaleString('en-US')} rows, RSS ${mb(peak).toFixed(0)} MB`,
        );
      await new Promise((r) => setImmediate(r)); // a stream's pace: let the event loop run
    }
  }
  parser.end();
  const ms = performance.now() - t0;
  if (numbers === 0) throw new Error('the parser read no numbers');
  global.gc?.();
  const bytes = total * chunk.length + header.length;
  return {
    bytes,
    rows: rows - 1,
    ms,
    mbPerSecond: mb(bytes) / (ms / 1000),
    rssBeforeMb: mb(before),
    rssPeakMb: mb(peak),
    rssAfterMb: mb(process.memoryUsage().rss),
  };
}

/** Runs the table benchmark: every table from file to model, then the stream (0 GB: none). */
export async function runTableBench(options: {
  dataDir: string;
  streamGb: number;
  environment: string;
  log: (line: string) => void;
  adapter?: string;
}): Promise<TableBenchReport> {
  const { log } = options;
  const work = mkdtempSync(join(tmpdir(), 'webgpu-mlp-bench-tables-'));
  const tables: TableRun[] = [];
  try {
    for (const { file, options: encode } of BENCH_TABLES) {
      log(`${file}: file to saved model …`);
      const run = await fileToModel(join(options.dataDir, file), file, encode, join(work, `${file}.safetensors`));
      log(`  ${formatRun(run)}`);
      tables.push(run);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  let stream: StreamRun | undefined;
  if (options.streamGb > 0) {
    log(`a generated CSV stream of ${options.streamGb} GB through the parser …`);
    stream = await streamThroughParser(options.streamGb, log);
    log(`  ${formatStream(stream)}`);
  }
  return {
    date: new Date().toISOString(),
    environment: options.environment,
    adapter: options.adapter ?? '',
    tables,
    stream,
  };
}

function formatRun(r: TableRun): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  return `${r.rows} rows, [${r.layers.join(', ')}], ${r.epochs} epochs: ${s(r.totalMs)} file to model (read ${s(r.readMs)}, setup ${s(r.setupMs)}, train ${s(r.trainMs)}, save ${s(r.saveMs)}), ${Math.round(r.samplesPerSecond).toLocaleString('en-US')} samples/s, ${r.task === 'classification' ? `accuracy ${(100 * r.score).toFixed(1)}%` : `R² ${r.score.toFixed(3)}`}`;
}

function formatStream(s: StreamRun): string {
  return `${(s.bytes / 2 ** 30).toFixed(2)} GB, ${s.rows.toLocaleString('en-US')} rows in ${(s.ms / 1000).toFixed(1)} s: ${s.mbPerSecond.toFixed(0)} MB/s; resident memory ${s.rssBeforeMb.toFixed(0)} MB before, ${s.rssPeakMb.toFixed(0)} MB at most, ${s.rssAfterMb.toFixed(0)} MB after`;
}

/** The report as a table for the terminal. */
export function formatTableBench(report: TableBenchReport): string {
  const lines = [`adapter: ${report.adapter}`, `environment: ${report.environment}`, ''];
  lines.push('| table | rows | network | epochs | file → model | read | setup | train | save | samples/s | score |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  for (const r of report.tables) {
    const score = r.task === 'classification' ? `${(100 * r.score).toFixed(1)}% accuracy` : `R² ${r.score.toFixed(3)}`;
    lines.push(
      `| ${r.table} | ${r.rows} | [${r.layers.join(', ')}] | ${r.epochs} | ${s(r.totalMs)} | ${s(r.readMs)} | ${s(r.setupMs)} | ${s(r.trainMs)} | ${s(r.saveMs)} | ${Math.round(r.samplesPerSecond).toLocaleString('en-US')} | ${score} |`,
    );
  }
  if (report.stream) lines.push('', `CSV stream: ${formatStream(report.stream)}`);
  return lines.join('\n');
}
