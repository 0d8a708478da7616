/**
 * What the table commands (`webgpu-mlp train`, `predict`, `evaluate`) share: reading a table file with
 * a progress line, the flags that say how to read it and which columns play which role, the WebGPU
 * runtime, and CSV output. Node only.
 */
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { describeAdapter } from '../gpu/adapter.js';
import type { GpuContext } from '../gpu/context.js';
import { spaceOutDawnPolling } from '../gpu/polling.js';
import { findWebGpuRuntime, type WebGpuRuntime } from '../node/webgpu-runtime.js';
import type { Delimiter } from '../table/csv.js';
import type { MissingPolicy, Task } from '../table/encode.js';
import { readTable, type TableFormat } from '../table/read.js';
import type { UnknownCategory } from '../table/schema.js';
import { MISSING_VALUES, type Table } from '../table/table.js';
import { bad, type Flag } from './flags.js';
import { formatDuration } from './format.js';

/** How to read a table file (every command). */
export interface ReadFlags {
  format: TableFormat | undefined;
  delimiter: Delimiter | undefined;
  /** Cell texts read as missing, besides the defaults. */
  missingValues: string[];
}

/** Which columns play which role, and what to do with missing cells (train, and evaluate's rows). */
export interface RoleFlags {
  target: string[];
  inputs: string[];
  ignore: string[];
  categorical: string[];
  numeric: string[];
  task: Task | undefined;
  missing: MissingPolicy;
}

export const READ_DEFAULTS: ReadFlags = { format: undefined, delimiter: undefined, missingValues: [] };

export const ROLE_DEFAULTS: RoleFlags = {
  target: [],
  inputs: [],
  ignore: [],
  categorical: [],
  numeric: [],
  task: undefined,
  missing: 'error',
};

export const READ_HELP = `Reading the file (CSV, TSV, JSON rows, JSON lines: by its extension, else by its first character):
  --format csv|tsv|json|jsonl   the file's format
  --delimiter comma|tab|semicolon
                          a CSV's field delimiter (default: detected from the header line)
  --missing-values A,B    more cell texts that mean "no value" (always: empty, ${MISSING_VALUES.filter((v) => v).join(', ')})`;

export const ROLE_HELP = `Columns (names as in the header; several separated by commas):
  --target COL            the column to predict (required unless the rows are { input, output })
  --ignore A,B            columns not to use (identifiers, dates, free text)
  --inputs A,B            the input columns, in this order (default: all but the target and ignored)
  --categorical A,B       one-hot encode these even though they hold numbers
  --numeric A,B           these must be numbers (text in them is an error)
  --task classification|regression
                          default: classification for text, or whole numbers with ≤ 20 values
  --missing error|drop|impute
                          rows with a missing cell: an error naming the line (default), leave them
                          out, or fill inputs with the training rows' mean / most frequent category`;

/** A list of column names: `A,B` (names may hold spaces; none empty). */
export function names(flag: string, v: string): string[] {
  const list = v.split(',').map((n) => n.trim());
  if (list.some((n) => n === '')) bad(flag, v, 'column names separated by commas, none empty');
  return list;
}

/** Reads a ReadFlags flag; false when the flag is not one of them. */
export function readFlag(f: Flag, into: ReadFlags): boolean {
  switch (f.name) {
    case '--format': {
      const v = f.value();
      if (v !== 'csv' && v !== 'tsv' && v !== 'json' && v !== 'jsonl') bad(f.name, v, 'one of csv, tsv, json, jsonl');
      into.format = v;
      return true;
    }
    case '--delimiter': {
      const v = f.value();
      const d = ({ comma: ',', ',': ',', tab: '\t', semicolon: ';', ';': ';' } as const)[v as 'comma'];
      if (!d) bad(f.name, v, 'comma, tab or semicolon');
      into.delimiter = d;
      return true;
    }
    case '--missing-values':
      into.missingValues = f
        .value()
        .split(',')
        .map((s) => s.trim());
      return true;
    default:
      return false;
  }
}

/** Reads a RoleFlags flag; false when the flag is not one of them. */
export function roleFlag(f: Flag, into: RoleFlags): boolean {
  switch (f.name) {
    case '--target':
    case '--inputs':
    case '--ignore':
    case '--categorical':
    case '--numeric':
      into[f.name.slice(2) as 'target'] = names(f.name, f.value());
      return true;
    case '--task': {
      const v = f.value();
      if (v !== 'classification' && v !== 'regression') bad(f.name, v, 'classification or regression');
      into.task = v;
      return true;
    }
    case '--missing': {
      const v = f.value();
      if (v !== 'error' && v !== 'drop' && v !== 'impute') bad(f.name, v, 'error, drop or impute');
      into.missing = v;
      return true;
    }
    default:
      return false;
  }
}

/** `--unknown-category error|ignore` (predict, evaluate). */
export function unknownFlag(f: Flag): UnknownCategory {
  const v = f.value();
  if (v !== 'error' && v !== 'ignore') bad(f.name, v, 'error or ignore');
  return v;
}

/** Throws unless `file` is a readable regular file, naming the flag or argument. */
export function checkInputFile(what: string, file: string): void {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(file);
  } catch {
    throw new Error(`${what} ${file}: no such file`);
  }
  if (!stat.isFile()) throw new Error(`${what} ${file}: not a file`);
}

/**
 * Reads a table file, streaming, with a progress line on a terminal (bytes, rows). Errors name the
 * file (its base name) and the line.
 */
export async function readTableFile(file: string, flags: ReadFlags, log: Log): Promise<Table> {
  const size = statSync(file).size;
  const t0 = performance.now();
  let last = 0;
  const table = await readTable(createReadStream(file), {
    name: basename(file),
    format: flags.format,
    delimiter: flags.delimiter,
    missingValues: [...MISSING_VALUES, ...flags.missingValues],
    onProgress: (p) => {
      const now = performance.now();
      if (now - last < 200 || !log.tty) return;
      last = now;
      const share = size ? p.bytes / size : 1;
      log.status(
        `reading ${basename(file)} ${bar(share)} ${(100 * share).toFixed(0)}%  ${p.rows.toLocaleString('en-US')} rows  ${formatBytes(p.bytes)}`,
      );
    },
  });
  log.status('');
  log.line(
    `data      ${basename(file)}: ${table.rowCount.toLocaleString('en-US')} rows, ${table.columns.length} columns (${formatBytes(size)} read in ${formatDuration((performance.now() - t0) / 1000)})`,
  );
  return table;
}

/** `[#####.....]` for a share in [0, 1]. */
export function bar(share: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round(share * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** Where a command writes: lines for the log, and a status line a terminal overwrites. */
export interface Log {
  readonly tty: boolean;
  line(text: string): void;
  /** A line rewritten in place on a terminal (progress); '' clears it. Not shown elsewhere. */
  status(text: string): void;
}

/** The log of a command: stdout, or stderr when stdout carries the command's output (predict without --out). */
export function makeLog(stream: NodeJS.WriteStream): Log {
  const tty = stream.isTTY === true;
  let shown = false;
  return {
    tty,
    line(text) {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
      stream.write(`${text}\n`);
    },
    status(text) {
      if (!tty) return;
      stream.write(`\r\x1b[K${text}`);
      shown = text !== '';
    },
  };
}

/**
 * The WebGPU runtime, found before the first network (a GPU, else SwiftShader: src/node/webgpu-runtime.ts);
 * an error saying what to install when there is none.
 */
export function runtime(): WebGpuRuntime {
  const found = findWebGpuRuntime();
  if (found.kind === 'none') throw new Error(`no WebGPU runtime: ${found.problem}`);
  return found;
}

/** Prints the backend of a network's context, and spaces out Dawn's polling on a software adapter. */
export function showBackend(ctx: GpuContext, found: WebGpuRuntime, log: Log): void {
  if (ctx.adapter?.isSoftware) spaceOutDawnPolling();
  log.line(`backend   WebGPU on ${ctx.adapter ? describeAdapter(ctx.adapter) : 'a device'}`);
  log.line(`runtime   ${found.summary}`);
}

/** A CSV field: quoted when it holds the delimiter, a quote or a line break. */
export function csvField(v: string | number): string {
  const s = typeof v === 'number' ? String(v) : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
