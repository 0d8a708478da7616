/**
 * From tables to encoded rows (src/table/encode.ts, src/table/schema.ts): column roles, the task,
 * missing values, the corrupt-table corpus of test/fixtures/tables (each a clear error or the
 * documented behaviour), and three real tables from the vega-datasets package.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeTable } from '../../src/table/encode.js';
import { TableError } from '../../src/table/errors.js';
import { parseCsv, readTable, tableFromRows } from '../../src/table/read.js';
import { encodeInputs } from '../../src/table/schema.js';
import { vegaBytes } from '../helpers/datasets.js';

const fixture = (name: string) =>
  readTable(readFileSync(new URL(`../fixtures/tables/${name}`, import.meta.url)), { name });
const vegaTable = (name: string) => readTable(vegaBytes(name), { name });

function thrown(f: () => unknown): TableError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(TableError);
    return error as TableError;
  }
  throw new Error('expected a TableError');
}

describe('roles and encoding', () => {
  const t = parseCsv('id,size,colour,kind\n1,1.5,red,a\n2,2,blue,b\n3,-1,red,a\n4,0,green,c\n', { name: 'shapes.csv' });

  it('one-hot encodes text columns over their sorted categories; numbers stay as they are', () => {
    const data = encodeTable(t, { target: 'kind', ignore: ['id'] });
    expect(data.features).toEqual(['size', 'colour=blue', 'colour=green', 'colour=red']);
    expect(data.outputs).toEqual(['a', 'b', 'c']);
    expect([data.task, data.head, data.rows]).toEqual(['classification', 'softmax', 4]);
    expect(Array.from(data.inputs)).toEqual([1.5, 0, 0, 1, 2, 1, 0, 0, -1, 0, 0, 1, 0, 0, 1, 0]);
    expect(Array.from(data.labels as Uint32Array)).toEqual([0, 1, 0, 2]);
    expect(data.columns).toEqual([
      { name: 'size', type: 'numeric' },
      { name: 'colour', type: 'categorical', categories: ['blue', 'green', 'red'] },
    ]);
    expect(data.where(3)).toBe('shapes.csv line 5');
  });

  it('takes the inputs in the order given, numbers as categories when told, and regression for values', () => {
    const data = encodeTable(t, { target: 'size', inputs: ['kind', 'id'], categorical: ['id'] });
    expect(data.features).toEqual(['kind=a', 'kind=b', 'kind=c', 'id=1', 'id=2', 'id=3', 'id=4']);
    expect([data.task, data.head, data.outputs]).toEqual(['regression', 'mse', ['size']]);
    expect(Array.from(data.values as Float32Array)).toEqual([1.5, 2, -1, 0]);
    expect(data.notes).toContain(
      'regression: the target "size" holds numbers that are not whole (task: \'classification\' to read them as classes)',
    );
  });

  it('reads whole numbers with few values as classes, unless told regression', () => {
    const q = parseCsv('x,quality\n1,5\n2,7\n3,5\n4,6\n', { name: 'q.csv' });
    const classes = encodeTable(q, { target: 'quality' });
    expect([classes.task, classes.outputs, Array.from(classes.labels as Uint32Array)]).toEqual([
      'classification',
      ['5', '6', '7'],
      [0, 2, 0, 1],
    ]);
    expect(encodeTable(q, { target: 'quality', task: 'regression' }).task).toBe('regression');
  });

  it('reads one-hot target columns (brain.js outputs) as classes, other target columns as values', () => {
    const colours = tableFromRows([
      { input: { r: 0.03, g: 0.7 }, output: { black: 1 } },
      { input: { r: 0.16, g: 0.09 }, output: { white: 1 } },
    ]);
    const data = encodeTable(colours);
    expect([data.task, data.outputs, Array.from(data.labels as Uint32Array), data.features]).toEqual([
      'classification',
      ['black', 'white'],
      [0, 1],
      ['r', 'g'],
    ]);
    const two = tableFromRows([
      { input: [0], output: [0.5, 1] },
      { input: [1], output: [0.25, 2] },
    ]);
    expect(encodeTable(two).task).toBe('regression');
    expect(thrown(() => encodeTable(two, { task: 'classification' })).message).toBe(
      "rows: task 'classification' with 2 target columns needs each row to have exactly one of them 1 and the others 0 (one-hot)",
    );
  });

  it('names an unknown column, suggesting the closest', () => {
    expect(thrown(() => encodeTable(t, { target: 'Kind ' })).message).toBe(
      'shapes.csv has no column "Kind " (options.target); did you mean "kind"? Its columns: "id", "size", "colour", "kind"',
    );
    expect(thrown(() => encodeTable(t, { target: 'kind', ignore: ['colr'] })).message).toMatch(
      /^shapes\.csv has no column "colr" \(options\.ignore\); did you mean "colour"\?/,
    );
    expect(thrown(() => encodeTable(t)).message).toBe(
      'shapes.csv: which column is the target? Name it (target: \'column\', --target column); the columns: "id", "size", "colour", "kind"',
    );
  });

  it('refuses a column given two roles, and bad options', () => {
    expect(() => encodeTable(t, { target: 'kind', ignore: ['kind'] })).toThrow(
      'column "kind" is in both options.target and options.ignore: give it one role',
    );
    expect(() => encodeTable(t, { target: 'kind', missing: 'skip' as 'drop' })).toThrow(
      `options.missing = "skip" is invalid: expected 'error', 'drop' or 'impute'`,
    );
    expect(() => encodeTable(t, { target: 'kind', colour: 1 } as object)).toThrow(/colour/);
  });

  it('refuses an identifier-like text column and a numeric column with a stray text, saying what to do', async () => {
    const weather = await vegaTable('seattle-weather.csv');
    expect(thrown(() => encodeTable(weather, { target: 'weather' })).message).toBe(
      'seattle-weather.csv: column "date" has 1461 distinct values in 1461 rows (e.g. "2012-01-01", "2012-01-02", "2012-01-03"): it looks like an identifier, a date or free text. Leave it out (ignore: ["date"], --ignore "date") or, to one-hot encode it anyway, name it in categorical (--categorical "date")',
    );
    const q = await fixture('question-mark.csv');
    const error = thrown(() => encodeTable(q, { target: 'kind' }));
    expect(error.message).toBe(
      'question-mark.csv: column "size" (an input) holds numbers but for "?" in 1 row, first at question-mark.csv line 3. If "?" means "no value", read the table with missingValues: [..., "?"] (--missing-values "?"); to use the column as categories anyway, name it in categorical',
    );
    expect([error.line, error.column]).toEqual([3, 'size']);
    expect(thrown(() => encodeTable(q, { target: 'kind', numeric: ['size'] })).message).toBe(
      'question-mark.csv line 3: "size" is "?", not a number (the column is numeric); if "?" means "no value", read the table with missingValues: [..., "?"] (--missing-values "?")',
    );
  });
});

describe('missing values', () => {
  const t = parseCsv('a,b,y\n1,x,p\n,y,q\n3,,p\n4,x,\n5,y,q\n6,x,p\n', { name: 'm.csv' });

  it('are an error by default, naming the line, the column and the counts', () => {
    const error = thrown(() => encodeTable(t, { target: 'y' }));
    expect(error.message).toBe(
      `m.csv line 3: "a" has no value. 3 rows have missing values (per column: "a" 1, "b" 1, "y" 1). Drop those rows (missing: 'drop', --missing drop) or fill them in (missing: 'impute', --missing impute: a column's mean or most frequent category over the training rows)`,
    );
    expect([error.line, error.column, error.row]).toEqual([3, 'a', 1]);
  });

  it("are dropped with missing: 'drop', said in the notes", () => {
    const data = encodeTable(t, { target: 'y', missing: 'drop' });
    expect([data.rows, Array.from(data.origin), data.where(1)]).toEqual([3, [0, 4, 5], 'm.csv line 6']);
    expect(data.notes).toContain('dropped 3 of 6 rows with missing values (per column: "a" 1, "b" 1, "y" 1)');
  });

  it("stay NaN with missing: 'impute' (filled when a network trains), but a missing target is an error", () => {
    expect(thrown(() => encodeTable(t, { target: 'y', missing: 'impute' })).message).toBe(
      `m.csv line 5: "y" has no value (it is the target, which cannot be imputed). 1 row has missing values (per column: "a" 1, "b" 1, "y" 1). Drop those rows (missing: 'drop', --missing drop)`,
    );
    const full = parseCsv('a,b,y\n1,x,p\n,y,q\n3,,p\n', { name: 'm.csv' });
    const data = encodeTable(full, { target: 'y', missing: 'impute' });
    expect(Array.from(data.inputs)).toEqual([1, 1, 0, Number.NaN, 0, 1, 3, Number.NaN, Number.NaN]);
  });
});

describe('the corrupt-table corpus (test/fixtures/tables)', () => {
  it('ragged rows: an error naming the line and both widths', async () => {
    await expect(fixture('ragged.csv')).rejects.toThrow('ragged.csv line 3 has 2 fields, the header has 3');
  });

  it('an unclosed quote, and text after a closing quote: errors naming the line', async () => {
    await expect(fixture('unclosed-quote.csv')).rejects.toThrow('unclosed-quote.csv line 2: a quoted field');
    await expect(fixture('text-after-quote.csv')).rejects.toThrow(
      'text-after-quote.csv line 2: after the closing quote',
    );
  });

  it('non-UTF-8 bytes: an error naming the line and byte', async () => {
    await expect(fixture('latin1.csv')).rejects.toThrow('latin1.csv line 3 (byte 29): the bytes 0xE9');
  });

  it('an unknown target: an error listing the columns', async () => {
    const t = await fixture('constant.csv');
    expect(thrown(() => encodeTable(t, { target: 'species' })).message).toBe(
      'constant.csv has no column "species" (options.target) Its columns: "size", "unit", "kind"',
    );
  });

  it('a column with no value in any row: an error saying to leave it out', async () => {
    const t = await fixture('all-missing.csv');
    const error = thrown(() => encodeTable(t, { target: 'kind', missing: 'drop' }));
    expect(error.message).toBe(
      'all-missing.csv: column "note" (an input) has no value in any of its 4 rows: leave it out (ignore: ["note"], --ignore "note")',
    );
    expect(error.column).toBe('note');
    expect(encodeTable(t, { target: 'kind', ignore: ['note'] }).features).toEqual(['size']);
  });

  it('a constant column: kept (it adds nothing), and said in the notes', async () => {
    const data = encodeTable(await fixture('constant.csv'), { target: 'kind' });
    expect(data.features).toEqual(['size', 'unit=cm']);
    expect(data.notes).toContain('column "unit" is "cm" in every row: it tells the network nothing');
    const numbers = encodeTable(parseCsv('x,c,y\n1,5,a\n2,5,b\n'), { target: 'y' });
    expect(numbers.notes).toContain('column "c" is 5 in every row: it tells the network nothing');
  });

  it('0 rows: an error, there is nothing to train on', async () => {
    const t = await fixture('header-only.csv');
    expect(thrown(() => encodeTable(t, { target: 'kind' })).message).toBe(
      'header-only.csv has a header but no rows: there is nothing to train on',
    );
  });

  it('one class: an error, classification needs two', async () => {
    const t = await fixture('one-class.csv');
    expect(thrown(() => encodeTable(t, { target: 'kind' })).message).toBe(
      'one-class.csv: the target "kind" has one class ("a") in every row: classification needs at least two',
    );
  });

  it('a category seen only at prediction time: an error naming the line, or no category with unknown: ignore', async () => {
    const data = encodeTable(await fixture('constant.csv'), { target: 'kind', ignore: ['size'] });
    const rows = await fixture('new-category.csv');
    const columns = [{ name: 'colour', type: 'categorical' as const, categories: ['blue', 'red'] }];
    const error = thrown(() => encodeInputs(rows, columns));
    expect(error.message).toBe(
      `new-category.csv line 4: "colour" is "green", a category the network was not trained on (it knows "blue", "red"); predict with unknownCategory: 'ignore' (--unknown-category ignore) to give such rows no category`,
    );
    expect([error.line, error.column]).toEqual([4, 'colour']);
    expect(Array.from(encodeInputs(rows, columns, { unknown: 'ignore' }))).toEqual([0, 1, 1, 0, 0, 0]);
    // A column the network needs that the rows lack.
    expect(thrown(() => encodeInputs(rows, data.columns)).message).toBe(
      'new-category.csv has no column "unit" (an input of the network) Its columns: "size", "colour", "kind"',
    );
  });
});

describe('real tables (vega-datasets)', () => {
  it('penguins: species from the measurements, island and sex; 10 rows with missing values dropped', async () => {
    const data = encodeTable(await vegaTable('penguins.json'), { target: 'Species', missing: 'drop' });
    expect([data.rows, data.outputs]).toEqual([334, ['Adelie', 'Chinstrap', 'Gentoo']]);
    expect(data.features).toEqual([
      'Island=Biscoe',
      'Island=Dream',
      'Island=Torgersen',
      'Beak Length (mm)',
      'Beak Depth (mm)',
      'Flipper Length (mm)',
      'Body Mass (g)',
      'Sex=.',
      'Sex=FEMALE',
      'Sex=MALE',
    ]);
    expect(data.notes).toContain(
      'dropped 10 of 344 rows with missing values (per column: "Beak Length (mm)" 2, "Beak Depth (mm)" 2, "Flipper Length (mm)" 2, "Body Mass (g)" 2, "Sex" 10)',
    );
  });

  it('cars: miles per gallon (regression) with origin one-hot; the car names must be left out', async () => {
    const cars = await vegaTable('cars.json');
    expect(thrown(() => encodeTable(cars, { target: 'Miles_per_Gallon', missing: 'drop' })).column).toBe('Name');
    const data = encodeTable(cars, { target: 'Miles_per_Gallon', ignore: ['Name'], missing: 'drop' });
    expect([data.task, data.rows]).toEqual(['regression', 392]);
    expect(data.features.filter((f) => f.startsWith('Origin'))).toEqual([
      'Origin=Europe',
      'Origin=Japan',
      'Origin=USA',
    ]);
  });

  it('Seattle weather: the weather of the day (5 classes) from the measurements', async () => {
    const data = encodeTable(await vegaTable('seattle-weather.csv'), { target: 'weather', ignore: ['date'] });
    expect([data.rows, data.outputs, data.features]).toEqual([
      1461,
      ['drizzle', 'fog', 'rain', 'snow', 'sun'],
      ['precipitation', 'temp_max', 'temp_min', 'wind'],
    ]);
  });
});
