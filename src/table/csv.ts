/**
 * A streaming CSV/TSV parser (RFC 4180, and what spreadsheets and pandas write): a header row, fields
 * separated by a delimiter (`,`, tab or `;`, detected from the header line unless given), quoted
 * fields holding delimiters, quotes (`""`) and line breaks, `\r\n`, `\n` or `\r` line ends, a byte
 * order mark, blank lines skipped. Text is pushed in chunks of any size and rows come out as they
 * complete: memory holds one row, never the file (a field is limited to `maxFieldLength` characters so
 * that an unclosed quote cannot swallow a whole file). Every error names the file and the line.
 *
 * Why our own: the parser is 200 lines with its tests (test/table/csv.test.ts); the packages that do
 * this well (Papa Parse, csv-parse) weigh 7–20 KB minified and bring Node streams or workers we would
 * not use, in a library that counts its kilobytes.
 */
import { TableError } from './errors.js';

export type Delimiter = ',' | '\t' | ';';

export interface CsvOptions {
  /** The field delimiter, or `'auto'` (default): the one of `,`, tab and `;` the header line has most of. */
  delimiter?: Delimiter | 'auto';
  /** What errors call the text (a file name). Default `'CSV'`. */
  name?: string;
  /** The longest field accepted, in characters (an unclosed quote is caught by it). Default 1,048,576. */
  maxFieldLength?: number;
}

const QUOTE = 34; // "
const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;

/** States between characters. */
enum State {
  /** At the start of a field. */
  Start,
  /** In a field that did not start with a quote. */
  Unquoted,
  /** Inside quotes. */
  Quoted,
  /** Just after a quote inside quotes: `""` (an escaped quote) or the closing quote. */
  QuoteInQuoted,
  /** After a closing quote: only spaces, then a delimiter or a line end. */
  Closed,
}

/**
 * Push text with `push`, then call `end`; `onRow(fields, line)` gets every row, the header first, with
 * the 1-based line it starts on.
 */
export class CsvParser {
  readonly name: string;
  private delimiter: number | undefined;
  private readonly maxField: number;
  private state = State.Start;
  /** The current field's text so far (earlier chunks' part of it). */
  private field = '';
  private fields: string[] = [];
  /** The line being read (1-based), and the line the current row started on. */
  private line = 1;
  private rowLine = 1;
  /** The last character of the previous chunk was a CR (its LF may open the next one). */
  private afterCR = false;
  /** The same inside quotes (the LF then belongs to the field, but not to the line count). */
  private quotedCR = false;
  private started = false;
  /** Text held back until the header line is complete (delimiter detection). */
  private head = '';
  private ended = false;

  constructor(
    private readonly onRow: (fields: string[], line: number) => void,
    options: CsvOptions = {},
  ) {
    this.name = options.name ?? 'CSV';
    const d = options.delimiter ?? 'auto';
    if (d !== 'auto' && d !== ',' && d !== '\t' && d !== ';') {
      throw new Error(`delimiter = ${JSON.stringify(d)} is invalid: expected ',', '\\t', ';' or 'auto'`);
    }
    this.delimiter = d === 'auto' ? undefined : d.charCodeAt(0);
    this.maxField = options.maxFieldLength ?? 1 << 20;
  }

  /** The delimiter in use (once the header line has been seen, when detected). */
  get delimiterUsed(): Delimiter | undefined {
    return this.delimiter === undefined ? undefined : (String.fromCharCode(this.delimiter) as Delimiter);
  }

  /** The line the parser is on (1-based). */
  get currentLine(): number {
    return this.line;
  }

  push(text: string): void {
    if (this.ended) throw new Error('CsvParser: push after end');
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark
    }
    if (this.delimiter === undefined) {
      this.head += text;
      const eol = this.head.search(/[\r\n]/);
      if (eol < 0 && this.head.length < this.maxField) return;
      this.delimiter = detectDelimiter(eol < 0 ? this.head : this.head.slice(0, eol));
      text = this.head;
      this.head = '';
    }
    this.scan(text);
  }

  end(): void {
    if (this.ended) return;
    if (this.delimiter === undefined) {
      this.delimiter = detectDelimiter(this.head);
      const text = this.head;
      this.head = '';
      this.scan(text);
    }
    this.ended = true;
    if (this.state === State.Quoted) {
      throw new TableError(
        `${this.name} line ${this.rowLine}: a quoted field opened on this row is never closed (a missing " ?)`,
        { line: this.rowLine },
      );
    }
    if (this.state !== State.Start) this.fields.push(this.field);
    else if (this.fields.length > 0) this.fields.push(''); // the row ends with a delimiter
    this.field = '';
    this.state = State.Start;
    if (this.fields.length > 0) this.endRow();
  }

  private scan(text: string): void {
    const delim = this.delimiter as number;
    const n = text.length;
    let i = 0;
    if (this.afterCR && n > 0) {
      this.afterCR = false;
      if (text.charCodeAt(0) === LF) i = 1; // the LF of a CRLF split across chunks
    }
    let from = i; // start of the current field's text in this chunk
    let state = this.state;
    if (state !== State.Quoted || (n > 0 && text.charCodeAt(0) !== LF)) this.quotedCR = false;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      switch (state) {
        case State.Start:
          if (c === QUOTE) {
            state = State.Quoted;
            from = i + 1;
          } else if (c === delim) {
            this.fields.push('');
            from = i + 1;
          } else if (c === LF || c === CR) {
            if (this.fields.length > 0) this.fields.push('');
            i = this.lineEnd(text, i);
            from = i + 1;
          } else {
            state = State.Unquoted;
            from = i;
          }
          break;
        case State.Unquoted:
          if (c === delim) {
            this.fields.push(this.field + text.slice(from, i));
            this.field = '';
            state = State.Start;
            from = i + 1;
          } else if (c === LF || c === CR) {
            this.fields.push(this.field + text.slice(from, i));
            this.field = '';
            state = State.Start;
            i = this.lineEnd(text, i);
            from = i + 1;
          }
          break;
        case State.Quoted:
          if (c === QUOTE) {
            this.field += text.slice(from, i);
            state = State.QuoteInQuoted;
          } else if (c === LF) {
            if (this.quotedCR && i === 0)
              this.quotedCR = false; // the LF of a CRLF split across chunks
            else this.line++; // a line break inside quotes: part of the field
          } else if (c === CR) {
            this.line++;
            if (i + 1 < n && text.charCodeAt(i + 1) === LF)
              i++; // CRLF: one line; the LF joins the field with the CR
            else if (i + 1 === n) this.quotedCR = true;
          }
          break;
        case State.QuoteInQuoted:
          if (c === QUOTE) {
            state = State.Quoted; // "" is a quote; it starts the next piece of the field
            from = i;
          } else {
            state = State.Closed;
            i--; // read this character again as what follows a closed field
          }
          break;
        case State.Closed:
          if (c === delim) {
            this.fields.push(this.field);
            this.field = '';
            state = State.Start;
            from = i + 1;
          } else if (c === LF || c === CR) {
            this.fields.push(this.field);
            this.field = '';
            state = State.Start;
            i = this.lineEnd(text, i);
            from = i + 1;
          } else if (c !== SPACE && c !== TAB) {
            throw new TableError(
              `${this.name} line ${this.line}: after the closing quote of field ${this.fields.length + 1} comes ${JSON.stringify(text[i])}; a quoted field ends at a delimiter or the end of the line (a quote inside a quoted field is written "")`,
              { line: this.line },
            );
          }
          break;
      }
    }
    // The chunk ends inside a field: keep its text so far.
    if (state === State.Unquoted || state === State.Quoted) this.field += text.slice(from, n);
    this.state = state;
    if (this.field.length > this.maxField) {
      throw new TableError(
        `${this.name} line ${this.rowLine}: a field is longer than ${this.maxField.toLocaleString('en-US')} characters${state === State.Quoted ? ' (a quote that is never closed?)' : ''}`,
        { line: this.rowLine },
      );
    }
  }

  /** A line end at text[i] (CR, LF or CRLF) outside quotes: ends the row. Returns the index of its last character. */
  private lineEnd(text: string, i: number): number {
    if (text.charCodeAt(i) === CR) {
      if (i + 1 < text.length) {
        if (text.charCodeAt(i + 1) === LF) i++;
      } else this.afterCR = true;
    }
    if (this.fields.length > 0) this.endRow();
    this.line++;
    this.rowLine = this.line;
    return i;
  }

  private endRow(): void {
    const fields = this.fields;
    this.fields = [];
    if (fields.length === 1 && fields[0] === '') return; // a blank line
    this.onRow(fields, this.rowLine);
  }
}

/** The delimiter a header line uses most, outside quotes: `,` unless tabs or semicolons outnumber commas. */
export function detectDelimiter(header: string): number {
  const counts = new Map<number, number>([
    [44, 0],
    [TAB, 0],
    [59, 0],
  ]);
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header.charCodeAt(i);
    if (c === QUOTE) quoted = !quoted;
    else if (!quoted && counts.has(c)) counts.set(c, (counts.get(c) as number) + 1);
  }
  let best = 44;
  for (const [c, k] of counts) if (k > (counts.get(best) as number)) best = c;
  return best;
}

/** Every row of a CSV text (the header first), with the line each starts on. */
export function parseCsvRows(text: string, options: CsvOptions = {}): { fields: string[]; line: number }[] {
  const rows: { fields: string[]; line: number }[] = [];
  const parser = new CsvParser((fields, line) => rows.push({ fields, line }), options);
  parser.push(text);
  parser.end();
  return rows;
}
