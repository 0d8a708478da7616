/**
 * Reading tables (src/table/read.ts, src/table/table.ts): every source form, CSV, TSV, JSON rows,
 * brain.js/ml5 `{ input, output }` rows, JSON lines; how cells are read (numbers, text, missing); and
 * the errors of broken files, each naming the file and the line.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TableError } from '../../src/table/errors.js';
import { parseCsv, parseJson, readTable, tableFromRows } from '../../src/table/read.js';

const bytes = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/tables/${name}`, import.meta.url)));
const text = (name: string) => new TextDecoder().decode(bytes(name));

async function thrown(promise: Promise<unknown> | (() => unknown)): Promise<TableError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(TableError);
    return error as TableError;
  }
  throw new Error('expected a TableError');
}

describe('cells', () => {
  it('reads numbers as numbers, the rest as text, and the missing-value markers as missing', () => {
    const t = parseCsv('a,b,c,d\n1,x,,2\n-0.5,NA,3,1e3\n.5,true,null,N/A\n', { name: 't.csv' });
    expect(t.columns.map((c) => [c.name, c.kind, c.missing])).toEqual([
      ['a', 'number', 0],
      ['b', 'text', 1],
      ['c', 'number', 2],
      ['d', 'number', 1],
    ]);
    expect([t.row(0), t.row(1), t.row(2)]).toEqual([
      { a: 1, b: 'x', c: null, d: 2 },
      { a: -0.5, b: null, c: 3, d: 1000 },
      { a: 0.5, b: 'true', c: null, d: null },
    ]);
    expect(t.lines).toEqual(Uint32Array.of(2, 3, 4));
    expect(t.where(1)).toBe('t.csv line 3');
  });

  it('keeps a column with any text in it as text, its numbers written as JavaScript writes them', () => {
    const t = parseCsv('code\n1.50\n0x10\n"1,234"\nInfinity\n', { name: 't' });
    expect(t.columns[0].kind).toBe('text');
    expect([0, 1, 2, 3].map((r) => t.row(r).code)).toEqual(['1.5', '0x10', '1,234', 'Infinity']);
  });

  it('takes other missing-value markers when told', () => {
    const t = parseCsv(text('question-mark.csv'), { missingValues: ['', '?'] });
    expect(t.column('size')?.kind).toBe('number');
    expect(t.column('size')?.missing).toBe(1);
  });

  it('names an empty header cell by its position and refuses a repeated name', async () => {
    expect(parseCsv(',a\n0,1\n').names).toEqual(['column 1', 'a']);
    const error = await thrown(() => parseCsv('a,b,a\n1,2,3\n', { name: 'dup.csv' }));
    expect(error.message).toBe('dup.csv line 1: columns 1 and 3 are both named "a": column names must differ');
  });
});

describe('readTable', () => {
  const expectPenguinish = (t: Awaited<ReturnType<typeof readTable>>) => {
    expect(t.names).toEqual(['name', 'size', 'colour', 'kind']);
    expect(t.rowCount).toBe(4);
    expect(t.row(2)).toEqual({ name: 'third', size: null, colour: 'two\nlines', kind: 'a' });
  };

  it('reads text, bytes, an ArrayBuffer, a Blob, a ReadableStream and an async iterable alike, with progress', async () => {
    const b = bytes('quoting.csv');
    expectPenguinish(await readTable(text('quoting.csv'), { name: 'quoting.csv' }));
    expectPenguinish(await readTable(b, { name: 'quoting.csv' }));
    expectPenguinish(await readTable(b.slice().buffer, { name: 'quoting.csv' }));
    const progress: { bytes: number; totalBytes: number | undefined; rows: number }[] = [];
    expectPenguinish(await readTable(new Blob([b]), { name: 'quoting.csv', onProgress: (p) => progress.push(p) }));
    expect(progress.at(-1)).toEqual({ bytes: b.length, totalBytes: b.length, rows: 4 });
    // A stream in chunks of 7 bytes: progress after each, rows counted as they complete.
    const chunks = Array.from({ length: Math.ceil(b.length / 7) }, (_, i) => b.subarray(i * 7, i * 7 + 7));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(c);
        controller.close();
      },
    });
    const seen: number[] = [];
    expectPenguinish(await readTable(stream, { name: 'quoting.csv', onProgress: (p) => seen.push(p.bytes) }));
    expect(seen).toEqual(chunks.map((_, i) => Math.min(b.length, (i + 1) * 7)));
    async function* pieces() {
      for (const c of chunks) yield c;
    }
    expectPenguinish(await readTable(pieces(), { name: 'quoting.csv' }));
  });

  it('reads a TSV with a byte order mark', async () => {
    const t = await readTable(bytes('bom.tsv'), { name: 'bom.tsv' });
    expect(t.names).toEqual(['size', 'colour', 'kind']);
    expect(t.row(3)).toEqual({ size: 4, colour: 'blue', kind: 'b' });
  });

  it('refuses bytes that are not UTF-8, naming the line and byte', async () => {
    const error = await thrown(readTable(bytes('latin1.csv'), { name: 'latin1.csv' }));
    expect(error.message).toBe(
      'latin1.csv line 3 (byte 29): the bytes 0xE9 0x75 0x2C 0x62 are not UTF-8 text. Save the file as UTF-8 (in a spreadsheet: "CSV UTF-8"); it may be Latin-1 or Windows-1252',
    );
    expect(error.line).toBe(3);
    // In a stream, after earlier chunks: the line and byte count from the start of the file.
    const b = bytes('latin1.csv');
    async function* two() {
      yield b.subarray(0, 20);
      yield b.subarray(20);
    }
    expect((await thrown(readTable(two(), { name: 'latin1.csv' }))).message).toMatch(/^latin1\.csv line 3 \(byte 29\)/);
  });

  it('refuses a ragged row, naming its line and the header width', async () => {
    const error = await thrown(readTable(bytes('ragged.csv'), { name: 'ragged.csv' }));
    expect(error.message).toBe(
      'ragged.csv line 3 has 2 fields, the header has 3: every row needs one value per column (an unquoted delimiter in a value, or a missing one?)',
    );
    expect(error.line).toBe(3);
  });

  it('refuses an empty file, and reads a header without rows as a table of 0 rows', async () => {
    expect((await thrown(readTable('', { name: 'empty.csv' }))).message).toBe(
      'empty.csv is empty: a table needs a header line naming its columns, then rows',
    );
    const t = await readTable(bytes('header-only.csv'), { name: 'header-only.csv' });
    expect([t.names, t.rowCount]).toEqual([['size', 'colour', 'kind'], 0]);
  });

  it('stops when its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(readTable('a\n1\n', { signal: controller.signal })).rejects.toThrow('stop');
  });

  it('refuses what it cannot read from, and a format it does not know', async () => {
    await expect(readTable(42 as unknown as string)).rejects.toThrow(
      'readTable: the source is number: expected text, bytes (Uint8Array, ArrayBuffer), a Blob or File, a ReadableStream or an async iterable of chunks',
    );
    await expect(readTable('a\n1\n', { format: 'xml' as 'csv' })).rejects.toThrow(
      "options.format = \"xml\" is invalid: expected 'csv', 'tsv', 'json' or 'jsonl'",
    );
  });
});

describe('JSON rows', () => {
  it('reads an array of objects; a key a row lacks is missing; null is missing', async () => {
    const t = await readTable('[{"a": 1, "b": "x"}, {"b": null, "c": true}, {"a": 2.5, "c": false}]', {
      name: 'r.json',
    });
    expect(t.names).toEqual(['a', 'b', 'c']);
    expect([t.row(0), t.row(1), t.row(2)]).toEqual([
      { a: 1, b: 'x', c: null },
      { a: null, b: null, c: 'true' },
      { a: 2.5, b: null, c: 'false' },
    ]);
    expect(t.lines).toBeUndefined();
    expect(t.where(1)).toBe('r.json[1]');
  });

  it('reads brain.js { input, output } rows: outputs are the default target, a key an output lacks is 0', () => {
    const t = tableFromRows([
      { input: { r: 0.03, g: 0.7, b: 0.5 }, output: { black: 1 } },
      { input: { r: 0.16, g: 0.09, b: 0.2 }, output: { white: 1 } },
      { input: { r: 0.5, g: 0.5, b: 1.0 }, output: { white: 1 } },
    ]);
    expect(t.names).toEqual(['r', 'g', 'b', 'black', 'white']);
    expect(t.outputs).toEqual(['black', 'white']);
    expect([t.row(0), t.row(1)]).toEqual([
      { r: 0.03, g: 0.7, b: 0.5, black: 1, white: 0 },
      { r: 0.16, g: 0.09, b: 0.2, black: 0, white: 1 },
    ]);
    // Arrays and single values; ml5's { data: [{ xs, ys }] } as saveData writes it.
    const arrays = tableFromRows([
      { input: [0, 1], output: [1] },
      { input: [1, 1], output: [0] },
    ]);
    expect([arrays.names, arrays.outputs]).toEqual([['input[0]', 'input[1]', 'output[0]'], ['output[0]']]);
    const ml5 = parseJson(
      JSON.stringify({
        data: [
          { xs: { x: 1 }, ys: { label: 'cat' } },
          { xs: { x: 2 }, ys: { label: 'dog' } },
        ],
      }),
    );
    expect([ml5.names, ml5.outputs, ml5.row(1)]).toEqual([['x', 'label'], ['label'], { x: 2, label: 'dog' }]);
  });

  it("reads JSON lines, by name or by their shape, with each row's line", async () => {
    const t = await readTable('{"a": 1}\n\n{"a": 2, "b": "y"}\n', { name: 'r.jsonl' });
    expect([t.names, t.lines, t.row(0), t.row(1)]).toEqual([
      ['a', 'b'],
      Uint32Array.of(1, 3),
      { a: 1, b: null },
      { a: 2, b: 'y' },
    ]);
    expect(parseJson('{"a": 1}\n{"a": 2}\n').rowCount).toBe(2);
    expect((await thrown(readTable('{"a": 1}\n{"a": \n', { name: 'bad.jsonl' }))).message).toMatch(
      /^bad\.jsonl line 2: not valid JSON \(/,
    );
  });

  it('names the row and key of a nested value, a non-finite number, a row that is not an object, and a mix of forms', async () => {
    expect((await thrown(() => tableFromRows([{ a: 1 }, { a: { x: 1 } }]))).message).toBe(
      'rows[1]: "a" is {"x":1}: a cell must be a number, text, a boolean or null (nested objects are not table cells)',
    );
    expect((await thrown(() => tableFromRows([{ a: Number.NaN }]))).message).toBe(
      'rows[0]: "a" is NaN: a value must be a finite number or text',
    );
    expect((await thrown(() => parseJson('[{"a": 1}, 3]', { name: 'f.json' }))).message).toBe(
      'f.json[1] is number: each row must be an object of named cells',
    );
    expect((await thrown(() => tableFromRows([{ input: [1], output: [0] }, { a: 1 }]))).message).toBe(
      'rows[1] is not an { input, output } row, unlike the rows before it: give all rows one form',
    );
    expect((await thrown(() => parseJson('{"rows": []}', { name: 'f.json' }))).message).toBe(
      'f.json: expected JSON holding an array of rows (objects such as { "island": "Dream", "mass": 3500 }, or { "input": …, "output": … }), got object',
    );
  });

  it('names the line and column of JSON that does not parse', async () => {
    const error = await thrown(readTable('[\n  {"a": 1},\n  {"a": }\n]', { name: 'f.json' }));
    expect(error.message).toMatch(/^f\.json: not valid JSON \(.* at line 3, column 9\)$/);
  });
});
