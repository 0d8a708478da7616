/**
 * Reading tables: CSV/TSV text, JSON (an array of row objects, ml5's `{ data: [...] }`, brain.js and
 * ml5 `{ input, output }` / `{ xs, ys }` rows), JSON lines, and rows given in code — from a string,
 * bytes, a `Blob`/`File`, a `ReadableStream` or any async iterable of chunks (a Node file stream). CSV
 * and JSON lines stream: memory holds the table being built (about the size of the text, see Table)
 * and one chunk, and `onProgress` hears after every chunk. A JSON array is parsed whole. Bytes must be
 * UTF-8; anything else is an error naming the line and byte.
 */
import { CsvParser, type Delimiter } from './csv.js';
import { TableError } from './errors.js';
import { MISSING_VALUES, type Table, TableBuilder } from './table.js';

export type TableFormat = 'csv' | 'tsv' | 'json' | 'jsonl';

export interface ReadTableOptions {
  /** What messages call the table (a file name); its extension also tells the format. Default `'table'`. */
  name?: string;
  /**
   * `'csv'`, `'tsv'`, `'json'` or `'jsonl'` (JSON lines). Default: from the name's extension (`.csv`,
   * `.tsv`, `.tab`, `.txt`, `.json`, `.jsonl`, `.ndjson`), else from the first character (`[` or `{`:
   * JSON, else CSV).
   */
  format?: TableFormat;
  /** CSV: the field delimiter; default detected from the header line (`,`, tab or `;`). */
  delimiter?: Delimiter;
  /** Cell texts that mean "no value" (see MISSING_VALUES for the default). */
  missingValues?: readonly string[];
  /** Called after every chunk read (streams, files): bytes so far, of how many when known, rows so far. */
  onProgress?: (progress: ReadProgress) => void;
  /** Stops reading (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

export interface ReadProgress {
  bytes: number;
  /** The source's size when known (a Blob, a string, bytes, or `totalBytes` given). */
  totalBytes: number | undefined;
  rows: number;
}

/** What readTable reads from. */
export type TableSource =
  | string
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | string>;

/** A CSV or TSV text as a table. */
export function parseCsv(
  text: string,
  options: Omit<ReadTableOptions, 'format' | 'onProgress' | 'signal'> = {},
): Table {
  const reader = new CsvReader(options.name ?? 'CSV', options);
  reader.push(text);
  return reader.finish();
}

/**
 * A JSON text as a table: an array of row objects (or of `{ input, output }` rows), ml5's
 * `{ "data": [...] }`, or JSON lines (one object per line).
 */
export function parseJson(text: string, options: Pick<ReadTableOptions, 'name' | 'missingValues'> = {}): Table {
  const name = options.name ?? 'JSON';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const lines = text.trimEnd().split('\n');
    if (lines.length > 1 && lines.every((l) => /^\s*(\{|$)/.test(l))) return parseJsonLines(text, options);
    throw new TableError(`${name}: not valid JSON (${jsonErrorWhere(error as Error, text)})`);
  }
  return tableFromJson(value, name, options.missingValues);
}

/** JSON lines: one row object per line (blank lines skipped). */
export function parseJsonLines(text: string, options: Pick<ReadTableOptions, 'name' | 'missingValues'> = {}): Table {
  const reader = new JsonLinesReader(options.name ?? 'JSON lines', options.missingValues);
  reader.push(text);
  return reader.finish();
}

/**
 * Rows given in code as a table: objects of cells (`{ island: 'Dream', mass: 3500 }`), or brain.js /
 * ml5 rows `{ input: {...} | [...], output: {...} | [...] | value }` (also `{ xs, ys }`), whose outputs
 * become the table's `outputs` (the default target; a key an output object lacks is 0, as brain.js
 * reads it).
 */
export function tableFromRows(
  rows: readonly object[],
  options: Pick<ReadTableOptions, 'name' | 'missingValues'> = {},
): Table {
  return tableFromJson(rows, options.name ?? 'rows', options.missingValues, false);
}

/** Reads a table from text, bytes, a Blob/File, a ReadableStream or an async iterable of chunks. */
export async function readTable(source: TableSource, options: ReadTableOptions = {}): Promise<Table> {
  const name = options.name ?? 'table';
  const { onProgress, signal } = options;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new Error(`options.onProgress is ${typeof onProgress}: expected a function, or nothing`);
  }
  let totalBytes: number | undefined;
  let chunks: AsyncIterable<Uint8Array | string>;
  if (typeof source === 'string') {
    totalBytes = source.length;
    chunks = once(source);
  } else if (source instanceof Uint8Array) {
    totalBytes = source.byteLength;
    chunks = once(source);
  } else if (source instanceof ArrayBuffer) {
    totalBytes = source.byteLength;
    chunks = once(new Uint8Array(source));
  } else if (typeof Blob !== 'undefined' && source instanceof Blob) {
    totalBytes = source.size;
    chunks = streamChunks(source.stream());
  } else if (source && typeof (source as ReadableStream).getReader === 'function') {
    chunks = streamChunks(source as ReadableStream<Uint8Array>);
  } else if (source && typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    chunks = source as AsyncIterable<Uint8Array | string>;
  } else {
    throw new Error(
      `readTable: the source is ${source === null ? 'null' : typeof source}: expected text, bytes (Uint8Array, ArrayBuffer), a Blob or File, a ReadableStream or an async iterable of chunks`,
    );
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let reader: ChunkReader | undefined;
  let bytes = 0;
  for await (const chunk of chunks) {
    signal?.throwIfAborted();
    let text: string;
    if (typeof chunk === 'string') {
      text = chunk;
      bytes += chunk.length;
    } else {
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        throw notUtf8(name, chunk, bytes, reader?.line ?? 1);
      }
      bytes += chunk.byteLength;
    }
    reader ??= makeReader(name, options, text);
    reader.push(text);
    onProgress?.({ bytes, totalBytes, rows: reader.rows });
  }
  signal?.throwIfAborted();
  let rest: string;
  try {
    rest = decoder.decode();
  } catch {
    throw new TableError(`${name}: the file ends inside a UTF-8 character (it is cut short, or not UTF-8)`);
  }
  reader ??= makeReader(name, options, rest);
  if (rest) reader.push(rest);
  return reader.finish();
}

/** What the readers share: text in, rows counted, a table out. */
interface ChunkReader {
  push(text: string): void;
  finish(): Table;
  readonly rows: number;
  /** The line being read (for a UTF-8 error's message). */
  readonly line: number;
}

function makeReader(name: string, options: ReadTableOptions, firstText: string): ChunkReader {
  const format = options.format ?? formatOf(name, firstText);
  if (format === 'csv' || format === 'tsv') {
    return new CsvReader(name, { ...options, delimiter: options.delimiter ?? (format === 'tsv' ? '\t' : undefined) });
  }
  if (format === 'jsonl') return new JsonLinesReader(name, options.missingValues);
  if (format === 'json') return new JsonReader(name, options.missingValues);
  throw new Error(`options.format = ${JSON.stringify(format)} is invalid: expected 'csv', 'tsv', 'json' or 'jsonl'`);
}

/** The format a name's extension says, else what the text looks like. */
function formatOf(name: string, text: string): TableFormat {
  const ext = /\.([a-z]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (ext === 'csv' || ext === 'txt') return 'csv';
  if (ext === 'tsv' || ext === 'tab') return 'tsv';
  if (ext === 'json') return 'json';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  return first === '[' || first === '{' ? 'json' : 'csv';
}

class CsvReader implements ChunkReader {
  private builder: TableBuilder | undefined;
  private readonly parser: CsvParser;

  constructor(
    private readonly name: string,
    options: Pick<ReadTableOptions, 'delimiter' | 'missingValues'>,
  ) {
    this.parser = new CsvParser(
      (fields, line) => {
        if (this.builder) this.builder.addFields(fields, line);
        else this.builder = new TableBuilder(name, fields, options.missingValues ?? MISSING_VALUES, true, line);
      },
      { name, delimiter: options.delimiter },
    );
  }

  get rows(): number {
    return this.builder?.rows ?? 0;
  }

  get line(): number {
    return this.parser.currentLine;
  }

  push(text: string): void {
    this.parser.push(text);
  }

  finish(): Table {
    this.parser.end();
    if (!this.builder) {
      throw new TableError(`${this.name} is empty: a table needs a header line naming its columns, then rows`);
    }
    return this.builder.finish();
  }
}

/** A JSON array or object, collected then parsed whole. */
class JsonReader implements ChunkReader {
  private parts: string[] = [];
  private newlines = 1;
  readonly rows = 0;

  constructor(
    private readonly name: string,
    private readonly missingValues: readonly string[] | undefined,
  ) {}

  get line(): number {
    return this.newlines;
  }

  push(text: string): void {
    this.parts.push(text);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.newlines++;
  }

  finish(): Table {
    const text = this.parts.join('');
    this.parts = [];
    return parseJson(text, { name: this.name, missingValues: this.missingValues });
  }
}

/** JSON lines, a row per line, read as the lines complete. */
class JsonLinesReader implements ChunkReader {
  private readonly rowsReader: RowsReader;
  private pending = '';
  line = 1;

  constructor(
    private readonly name: string,
    missingValues: readonly string[] | undefined,
  ) {
    this.rowsReader = new RowsReader(name, missingValues, true);
  }

  get rows(): number {
    return this.rowsReader.rows;
  }

  push(text: string): void {
    let start = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
      this.lineDone(this.pending + text.slice(start, i));
      this.pending = '';
      start = i + 1;
    }
    this.pending += text.slice(start);
  }

  private lineDone(raw: string): void {
    const text = raw.replace(/^\uFEFF/, '').trim();
    const line = this.line++;
    if (!text) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new TableError(`${this.name} line ${line}: not valid JSON (${(error as Error).message})`, { line });
    }
    this.rowsReader.add(value, `${this.name} line ${line}`, line);
  }

  finish(): Table {
    if (this.pending) this.lineDone(this.pending);
    this.pending = '';
    return this.rowsReader.finish();
  }
}

/** The rows of a parsed JSON value (see parseJson). */
function tableFromJson(value: unknown, name: string, missingValues?: readonly string[], file = true): Table {
  let rows = value;
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    rows = (value as { data: unknown[] }).data; // ml5's saveData: { data: [{ xs, ys }, …] }
  }
  if (!Array.isArray(rows)) {
    throw new TableError(
      `${name}: expected ${file ? 'JSON holding ' : ''}an array of rows (objects such as { "island": "Dream", "mass": 3500 }, or { "input": …, "output": … }), got ${rows === null ? 'null' : typeof rows}`,
    );
  }
  const reader = new RowsReader(name, missingValues, false);
  rows.forEach((row, i) => {
    reader.add(row, `${name}[${i}]`);
  });
  return reader.finish();
}

/**
 * Row objects into a table, columns added as they first appear (earlier rows lack them: missing).
 * `{ input, output }` and `{ xs, ys }` rows are flattened: their input's keys (or `input[i]`) are
 * columns, their output's keys (or `output[i]`, or `output`) too, and are the table's outputs.
 */
class RowsReader {
  private readonly builder: TableBuilder;
  private readonly index = new Map<string, number>();
  private readonly outputs: string[] = [];
  /** Whether the rows are { input, output } rows (decided by the first row), and output objects' columns. */
  private io: boolean | undefined;
  private readonly zeroWhenMissing = new Set<string>();

  constructor(name: string, missingValues: readonly string[] | undefined, withLines: boolean) {
    this.builder = new TableBuilder(name, [], missingValues ?? MISSING_VALUES, withLines);
  }

  get rows(): number {
    return this.builder.rows;
  }

  add(row: unknown, where: string, line?: number): void {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new TableError(
        `${where} is ${Array.isArray(row) ? 'an array' : row === null ? 'null' : typeof row}: each row must be an object of named cells`,
        { line, row: this.rows },
      );
    }
    const keys = Object.keys(row);
    const io = isIoRow(keys);
    this.io ??= io;
    if (io !== this.io) {
      throw new TableError(
        `${where} ${io ? 'is' : 'is not'} an { input, output } row, unlike the rows before it: give all rows one form`,
        { line, row: this.rows },
      );
    }
    const cells: [string, unknown][] = [];
    if (io) {
      const r = row as Record<string, unknown>;
      const [inKey, outKey] = 'input' in r ? ['input', 'output'] : ['xs', 'ys'];
      flatten(r[inKey], inKey, cells, where, line, this.rows);
      const before = cells.length;
      if (outKey in r) flatten(r[outKey], outKey, cells, where, line, this.rows);
      for (let i = before; i < cells.length; i++) {
        const [key] = cells[i];
        if (!this.outputs.includes(key)) {
          if (this.index.has(key)) {
            throw new TableError(`${where}: ${JSON.stringify(key)} is both an input and an output`, {
              line,
              row: this.rows,
              column: key,
            });
          }
          this.outputs.push(key);
        }
        if (isPlainObject(r[outKey])) this.zeroWhenMissing.add(key);
      }
    } else {
      for (const key of keys) cells.push([key, (row as Record<string, unknown>)[key]]);
    }
    const values: unknown[] = [];
    for (const [key, v] of cells) {
      let c = this.index.get(key);
      if (c === undefined) {
        c = this.builder.addColumn(key, this.zeroWhenMissing.has(key) ? 0 : null);
        this.index.set(key, c);
      }
      values[c] = v;
    }
    if (io) {
      // brain.js: a key an output object lacks is 0 ({ black: 1 } is { black: 1, white: 0 }).
      for (const key of this.zeroWhenMissing) {
        const c = this.index.get(key) as number;
        values[c] ??= 0;
      }
    }
    this.builder.addValues(values, where, line);
  }

  finish(): Table {
    return this.builder.finish(this.outputs);
  }
}

/** Whether a row's keys are those of an { input, output } (or { xs, ys }) row. */
function isIoRow(keys: readonly string[]): boolean {
  const io = (a: string, b: string) => keys.includes(a) && keys.every((k) => k === a || k === b);
  return keys.length > 0 && (io('input', 'output') || io('xs', 'ys'));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** The cells of an input or output: an object's keys, an array's `key[i]`, or a single `key`. */
function flatten(
  value: unknown,
  key: string,
  cells: [string, unknown][],
  where: string,
  line: number | undefined,
  row: number,
): void {
  if (isPlainObject(value)) {
    for (const k of Object.keys(value)) cells.push([k, value[k]]);
  } else if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const list = value as ArrayLike<unknown>;
    for (let i = 0; i < list.length; i++) cells.push([`${key}[${i}]`, list[i]]);
  } else if (value === undefined) {
    throw new TableError(`${where}: "${key}" is missing`, { line, row });
  } else cells.push([key, value]);
}

async function* once<T>(value: T): AsyncIterable<T> {
  yield value;
}

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** The error for bytes that are not UTF-8: where the first bad byte is (line and byte offset). */
function notUtf8(name: string, chunk: Uint8Array, before: number, line: number): TableError {
  const at = firstInvalidUtf8(chunk);
  let lines = line;
  for (let i = 0; i < at; i++) if (chunk[i] === 10) lines++;
  const shown = Array.from(chunk.subarray(at, at + 4), (b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`);
  return new TableError(
    `${name} line ${lines} (byte ${(before + at).toLocaleString('en-US')}): the bytes ${shown.join(' ')} are not UTF-8 text. Save the file as UTF-8 (in a spreadsheet: "CSV UTF-8"); it may be Latin-1 or Windows-1252`,
    { line: lines },
  );
}

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence (0 when unsure). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const need =
      b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    if (i + need >= bytes.length) break; // cut at the chunk's end: the next chunk may complete it
    for (let k = 1; k <= need; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return 0;
}

/** Where JSON.parse failed: the message, with the line and column of the first error (found by jsonErrorOffset). */
function jsonErrorWhere(error: Error, text: string): string {
  const pos = jsonErrorOffset(text);
  // V8 quotes the text around the error ('Unexpected token }, ..."{"a": }"... is not valid JSON'): left out.
  const message = error.message
    .replace(/, (\.\.\.)?"[\s\S]*" is not valid JSON$/, '')
    .replace(/ in JSON at position \d+.*$/, '');
  if (pos === undefined) return message;
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `${message} at line ${line}, column ${pos - before.lastIndexOf('\n')}`;
}

/**
 * The offset of the first syntax error in a JSON text (JSON.parse's messages give none in every
 * engine), or undefined when none is found. A plain recursive-descent scan, run only after a failure.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    for (const ch of word) if (text[i++] !== ch) fail();
  };
  const string = () => {
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? '')) fail();
      }
      i++;
    }
    if (text[i] !== '"') fail();
    i++;
  };
  const value = (depth: number): void => {
    space();
    const c = text[i];
    if (depth > 512) fail();
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          space();
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ':') fail();
          i++;
        }
        value(depth + 1);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === close) {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else number();
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += (m as RegExpExecArray)[0].length;
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value(0);
    space();
    return i < text.length ? i : undefined;
  } catch (at) {
    if (typeof at === 'number') return Math.min(at, text.length);
    throw at;
  }
}
