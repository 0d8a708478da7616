/**
 * Table: named columns of cells as read from a file — numbers, text or missing — stored by column
 * (a number column as a Float64Array, a text column as codes into its list of distinct values), so a
 * table holds about as many bytes as its CSV text, not ten times more. Where each row came from (its
 * file line) is kept for the errors of everything that reads the table later.
 *
 * How cells are read, the same for CSV, JSON and rows given in code:
 * - a missing value is an empty cell, one of `missingValues` (default `''`, `NA`, `N/A`, `n/a`,
 *   `NaN`, `nan`, `null`, `NULL`, `None`), JSON `null` or a key a row lacks;
 * - a number is written as one (`3`, `-0.5`, `1e-3`; not `0x10`, `1,234` or `Infinity`);
 * - everything else is text, and so are booleans (`"true"`, `"false"`); a column with any text in it
 *   is a text column, its numbers kept as the text JavaScript writes them (`1.50` becomes `"1.5"`).
 */
import { formatValue } from '../params.js';
import { TableError } from './errors.js';
import { TABLE_KIND } from './kind.js';

/** A cell as the table gives it back. */
export type Cell = number | string | null;

/** The missing-value markers unless a reader is told others (what pandas reads as missing, in short). */
export const MISSING_VALUES: readonly string[] = ['', 'NA', 'N/A', 'n/a', 'NaN', 'nan', 'null', 'NULL', 'None'];

const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** The number a cell's text writes, or undefined when it writes none (see the module comment). */
export function parseNumber(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

/** One column: its name, its kind and its cells. */
export class TableColumn {
  /** @internal */
  constructor(
    readonly name: string,
    /** `'number'` when every value present is a number, else `'text'`. */
    readonly kind: 'number' | 'text',
    /** Rows in the column. */
    readonly length: number,
    /** Number columns: the values, NaN where missing. */
    readonly numbers: Float64Array | undefined,
    /** Text columns: each row's index into `values`, −1 where missing. */
    readonly codes: Int32Array | undefined,
    /** Text columns: the distinct values, in the order they first appear. */
    readonly values: readonly string[],
    /** How many rows have no value. */
    readonly missing: number,
  ) {}

  /** The cell of row r: a number, text, or null when missing. */
  get(r: number): Cell {
    if (this.numbers) {
      const v = this.numbers[r];
      return Number.isNaN(v) ? null : v;
    }
    const code = (this.codes as Int32Array)[r];
    return code < 0 ? null : this.values[code];
  }

  /** Whether row r has no value. */
  isMissing(r: number): boolean {
    return this.numbers ? Number.isNaN(this.numbers[r]) : (this.codes as Int32Array)[r] < 0;
  }
}

/** A table of named columns (see the module comment). */
export class Table {
  /** @internal Marks a Table without an instanceof (src/table/kind.ts). */
  readonly [TABLE_KIND] = 'table';
  private readonly byName: Map<string, TableColumn>;

  /** @internal */
  constructor(
    /** What messages call the table: its file name, or "rows". */
    readonly name: string,
    readonly columns: readonly TableColumn[],
    readonly rowCount: number,
    /** The 1-based file line each row starts on (CSV, JSON lines); undefined for rows given as objects. */
    readonly lines: Uint32Array | undefined,
    /**
     * The columns `{ input, output }` rows (brain.js, ml5) gave as outputs: the default target. Empty
     * for other tables.
     */
    readonly outputs: readonly string[] = [],
    /** The index each row had in the table it was selected from (rows without lines), for messages. */
    private readonly origin?: Uint32Array,
  ) {
    this.byName = new Map(columns.map((c) => [c.name, c]));
  }

  /** The column names, in the file's order. */
  get names(): string[] {
    return this.columns.map((c) => c.name);
  }

  /** The column of that name, or undefined. */
  column(name: string): TableColumn | undefined {
    return this.byName.get(name);
  }

  /** Row r as an object of its cells. */
  row(r: number): Record<string, Cell> {
    const out: Record<string, Cell> = {};
    for (const c of this.columns) out[c.name] = c.get(r);
    return out;
  }

  /** The rows at these indices, in this order, as a table (their lines kept for messages). */
  select(rows: ArrayLike<number>): Table {
    const pick = <T extends Float64Array | Int32Array | Uint32Array>(a: T): T => {
      const out = new (a.constructor as new (n: number) => T)(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = a[rows[i]];
      return out;
    };
    const columns = this.columns.map((c) => {
      const numbers = c.numbers && pick(c.numbers);
      const codes = c.codes && pick(c.codes);
      let missing = 0;
      for (let i = 0; i < rows.length; i++)
        if (numbers ? Number.isNaN(numbers[i]) : (codes as Int32Array)[i] < 0) missing++;
      return new TableColumn(c.name, c.kind, rows.length, numbers, codes, c.values, missing);
    });
    const origin = this.lines ? undefined : Uint32Array.from(rows, (r) => this.origin?.[r] ?? r);
    return new Table(this.name, columns, rows.length, this.lines && pick(this.lines), this.outputs, origin);
  }

  /** Where row r is, for a message: `penguins.csv line 12`, or `rows[10]`. */
  where(r: number): string {
    return this.lines ? `${this.name} line ${this.lines[r]}` : `${this.name}[${this.origin?.[r] ?? r}]`;
  }

  /** The location fields of a TableError about row r. */
  at(r: number, column?: string): { line?: number; row: number; column?: string } {
    return { line: this.lines?.[r], row: r, column };
  }
}

/** Collects one column's cells while a file is read. */
export class ColumnBuilder {
  private numbers: Float64Array | undefined = new Float64Array(256);
  private codes: Int32Array | undefined;
  private readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  length = 0;
  private missing = 0;

  constructor(
    readonly name: string,
    private readonly missingValues: ReadonlySet<string>,
  ) {}

  /** A cell as text (CSV, or a JSON string): missing, a number, or text. */
  addText(text: string): void {
    if (this.missingValues.has(text)) {
      this.addMissing();
      return;
    }
    if (this.numbers) {
      const v = parseNumber(text);
      if (v !== undefined) {
        this.addNumber(v);
        return;
      }
      this.toText();
    }
    this.addCode(text);
  }

  addNumber(v: number): void {
    if (!this.numbers) {
      this.addCode(String(v));
      return;
    }
    if (this.length === this.numbers.length) this.numbers = grow(this.numbers);
    this.numbers[this.length++] = v;
  }

  addMissing(): void {
    this.missing++;
    if (this.numbers) {
      if (this.length === this.numbers.length) this.numbers = grow(this.numbers);
      this.numbers[this.length++] = Number.NaN;
    } else this.pushCode(-1);
  }

  private addCode(text: string): void {
    let code = this.index.get(text);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(text);
      this.index.set(text, code);
    }
    this.pushCode(code);
  }

  private pushCode(code: number): void {
    const codes = this.codes as Int32Array;
    if (this.length === codes.length) this.codes = grow(codes);
    (this.codes as Int32Array)[this.length++] = code;
  }

  /** The first text in a number column: the numbers so far become text too. */
  private toText(): void {
    const numbers = this.numbers as Float64Array;
    this.numbers = undefined;
    const n = this.length;
    this.codes = new Int32Array(Math.max(256, numbers.length));
    this.length = 0;
    for (let r = 0; r < n; r++) {
      const v = numbers[r];
      if (Number.isNaN(v)) this.pushCode(-1);
      else this.addCode(String(v));
    }
  }

  finish(): TableColumn {
    const n = this.length;
    return this.numbers
      ? new TableColumn(this.name, 'number', n, this.numbers.slice(0, n), undefined, [], this.missing)
      : new TableColumn(
          this.name,
          'text',
          n,
          undefined,
          (this.codes as Int32Array).slice(0, n),
          this.values,
          this.missing,
        );
  }
}

function grow<T extends Float64Array | Int32Array | Uint32Array>(a: T): T {
  const bigger = new (a.constructor as new (n: number) => T)(a.length * 2);
  bigger.set(a);
  return bigger;
}

/** Builds a table row by row, from a header (CSV, JSON lines) or column names (objects). */
export class TableBuilder {
  readonly columns: ColumnBuilder[];
  private lines = new Uint32Array(256);
  rows = 0;
  private readonly missingValues: ReadonlySet<string>;

  constructor(
    readonly name: string,
    names: readonly string[],
    missingValues: readonly string[] = MISSING_VALUES,
    /** Whether rows come with file lines. */
    private readonly withLines = true,
    headerLine = 1,
  ) {
    this.missingValues = new Set(missingValues);
    this.columns = checkHeader(name, names, headerLine).map((n) => new ColumnBuilder(n, this.missingValues));
  }

  /**
   * A column first seen after `rows` rows (JSON rows need not all have the same keys): the rows before
   * it get `fill`, missing (null) or a number. Returns its index.
   */
  addColumn(name: string, fill: number | null = null): number {
    const col = new ColumnBuilder(name, this.missingValues);
    for (let r = 0; r < this.rows; r++) {
      if (fill === null) col.addMissing();
      else col.addNumber(fill);
    }
    this.columns.push(col);
    return this.columns.length - 1;
  }

  /** A CSV row: one text cell per column. */
  addFields(fields: readonly string[], line: number): void {
    const cols = this.columns;
    if (fields.length !== cols.length) {
      throw new TableError(
        `${this.name} line ${line} has ${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${cols.length}: every row needs one value per column (an unquoted delimiter in a value, or a missing one?)`,
        { line, row: this.rows },
      );
    }
    for (let c = 0; c < cols.length; c++) cols[c].addText(fields[c]);
    this.addLine(line);
  }

  /** A row of JSON values by column; `where` names it in errors. */
  addValues(values: readonly unknown[], where: string, line?: number): void {
    const cols = this.columns;
    for (let c = 0; c < cols.length; c++) {
      const v = values[c];
      const col = cols[c];
      if (v === null || v === undefined) col.addMissing();
      else if (typeof v === 'number') {
        if (!Number.isFinite(v)) {
          throw new TableError(
            `${where}: ${JSON.stringify(col.name)} is ${v}: a value must be a finite number or text`,
            {
              line,
              row: this.rows,
              column: col.name,
            },
          );
        }
        col.addNumber(v);
      } else if (typeof v === 'string') col.addText(v);
      else if (typeof v === 'boolean') col.addText(String(v));
      else {
        throw new TableError(
          `${where}: ${JSON.stringify(col.name)} is ${formatValue(v)}: a cell must be a number, text, a boolean or null (nested ${Array.isArray(v) ? 'arrays' : 'objects'} are not table cells)`,
          { line, row: this.rows, column: col.name },
        );
      }
    }
    if (this.withLines) this.addLine(line ?? 0);
    else this.rows++;
  }

  private addLine(line: number): void {
    if (this.rows === this.lines.length) this.lines = grow(this.lines);
    this.lines[this.rows++] = line;
  }

  finish(outputs: readonly string[] = []): Table {
    return new Table(
      this.name,
      this.columns.map((c) => c.finish()),
      this.rows,
      this.withLines ? this.lines.slice(0, this.rows) : undefined,
      outputs,
    );
  }
}

/** Column names from a header: an empty one is named by its position, a repeated one is an error. */
function checkHeader(name: string, names: readonly string[], line: number): string[] {
  const seen = new Map<string, number>();
  return names.map((raw, i) => {
    const n = raw === '' ? `column ${i + 1}` : raw;
    const first = seen.get(n);
    if (first !== undefined) {
      throw new TableError(
        `${name} line ${line}: columns ${first + 1} and ${i + 1} are both named ${JSON.stringify(n)}: column names must differ`,
        { line, column: n },
      );
    }
    seen.set(n, i);
    return n;
  });
}
