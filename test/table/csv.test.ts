/**
 * The CSV/TSV parser (src/table/csv.ts) on every edge case its module comment promises, fed whole and
 * in chunks of every size (a chunk boundary may fall anywhere: inside a quoted field, between the CR
 * and LF of a line end, inside an escaped quote).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CsvParser, parseCsvRows } from '../../src/table/csv.js';
import { TableError } from '../../src/table/errors.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/tables/${name}`, import.meta.url), 'utf8');

/** The rows of `text` pushed in chunks of `size` characters. */
function chunked(text: string, size: number, options = {}): { fields: string[]; line: number }[] {
  const rows: { fields: string[]; line: number }[] = [];
  const parser = new CsvParser((fields, line) => rows.push({ fields, line }), options);
  for (let i = 0; i < text.length; i += size) parser.push(text.slice(i, i + size));
  parser.end();
  return rows;
}

describe('CSV parser', () => {
  const quoting = [
    { fields: ['name', 'size', 'colour', 'kind'], line: 1 },
    { fields: ['first', '1.5', 'red, dark', 'a'], line: 2 },
    { fields: ['second', '2', 'say "hi"', 'b'], line: 3 },
    { fields: ['third', '', 'two\nlines', 'a'], line: 4 },
    { fields: ['fourth', '4e-1', 'blue', 'b'], line: 7 },
  ];

  it('reads quoted delimiters, escaped quotes, line breaks in quotes, CRLF, empty cells; skips blank lines', () => {
    expect(parseCsvRows(fixture('quoting.csv'))).toEqual(quoting);
  });

  it('gives the same rows whatever the chunk boundaries', () => {
    const text = fixture('quoting.csv');
    for (let size = 1; size <= text.length; size++) expect(chunked(text, size), `chunks of ${size}`).toEqual(quoting);
    const crlf = 'a,b\r\n"x\r\ny",2\r\n3,4\r\n';
    const expected = [
      { fields: ['a', 'b'], line: 1 },
      { fields: ['x\r\ny', '2'], line: 2 },
      { fields: ['3', '4'], line: 4 },
    ];
    for (let size = 1; size <= crlf.length; size++) expect(chunked(crlf, size), `chunks of ${size}`).toEqual(expected);
  });

  it('takes a byte order mark off, and detects tabs and semicolons from the header line', () => {
    expect(parseCsvRows(fixture('bom.tsv'))[0]).toEqual({ fields: ['size', 'colour', 'kind'], line: 1 });
    expect(parseCsvRows(fixture('bom.tsv'))[1].fields).toEqual(['1', 'red', 'a']);
    expect(parseCsvRows(fixture('semicolon.csv')).map((r) => r.fields)).toEqual([
      ['size', 'colour', 'kind'],
      ['1,5', 'red', 'a'],
      ['2', 'blue', 'b'],
    ]);
    // Told the delimiter, it does not guess.
    expect(parseCsvRows('a;b,c\n1;2,3\n', { delimiter: ',' })[1].fields).toEqual(['1;2', '3']);
  });

  it('reads a last row without a line end, a trailing empty field, lone CR line ends and spaces after a closing quote', () => {
    expect(parseCsvRows('a,b\n1,').map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['1', ''],
    ]);
    expect(parseCsvRows('a,b\r1,2\r3,4').map((r) => r)).toEqual([
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', '2'], line: 2 },
      { fields: ['3', '4'], line: 3 },
    ]);
    expect(parseCsvRows('a,b\n"x" ,"y"\n')[1].fields).toEqual(['x', 'y']);
    expect(parseCsvRows('a,b\n,\n')[1].fields).toEqual(['', '']);
    // A quote inside an unquoted field is a character like any other.
    expect(parseCsvRows('a,b\n5\'10",x\n')[1].fields).toEqual(['5\'10"', 'x']);
  });

  it('names the line of an unclosed quote, and of text after a closing quote', () => {
    expect(() => parseCsvRows(fixture('unclosed-quote.csv'), { name: 'unclosed-quote.csv' })).toThrow(
      'unclosed-quote.csv line 2: a quoted field opened on this row is never closed',
    );
    let error: unknown;
    try {
      parseCsvRows(fixture('text-after-quote.csv'), { name: 'f.csv' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TableError);
    expect((error as TableError).line).toBe(2);
    expect((error as TableError).message).toBe(
      'f.csv line 2: after the closing quote of field 2 comes "x"; a quoted field ends at a delimiter or the end of the line (a quote inside a quoted field is written "")',
    );
  });

  it('refuses a field longer than maxFieldLength, so an unclosed quote cannot hold a whole stream', () => {
    const parser = new CsvParser(() => {}, { name: 's', maxFieldLength: 100 });
    parser.push('a,b\n1,"');
    expect(() => {
      for (let i = 0; i < 20; i++) parser.push('x'.repeat(10));
    }).toThrow('s line 2: a field is longer than 100 characters (a quote that is never closed?)');
  });

  it('refuses a delimiter it does not know', () => {
    expect(() => new CsvParser(() => {}, { delimiter: '|' as ',' })).toThrow(
      `delimiter = "|" is invalid: expected ',', '\\t', ';' or 'auto'`,
    );
  });
});
