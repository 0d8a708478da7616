/**
 * The `webgpu-mlp` command as a process (src/cli/main.ts, built by vite.cli.config.ts): train on real
 * tables with the defaults, predict to CSV, evaluate; and every bad flag, file, column, encoding or
 * value refused before any training, naming what and where, with exit code 2.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/io/model_file.js';
import { vegaPath } from '../helpers/datasets.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside the repository, so that the built command resolves `webgpu` from node_modules.
const OUT = join(ROOT, 'node_modules/.cache/webgpu-mlp-tables-cli-test');
const FIXTURES = fileURLToPath(new URL('../fixtures/tables/', import.meta.url));
let work: string;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(OUT, 'webgpu-mlp.js'), ...args],
      { cwd: work, timeout: 300_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) =>
        done({
          code: error ? ((error as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr: stderr.replace(/.*XDG_RUNTIME_DIR.*\n/g, '').trim(),
        }),
    );
  });
}

beforeAll(async () => {
  await build({
    configFile: join(ROOT, 'vite.cli.config.ts'),
    build: { outDir: OUT, emptyOutDir: true },
    logLevel: 'warn',
  });
  work = mkdtempSync(join(OUT, 'run-'));
  for (const f of ['penguins.json', 'cars.json', 'seattle-weather.csv']) copyFileSync(vegaPath(f), join(work, f));
  for (const f of ['latin1.csv', 'ragged.csv', 'one-class.csv', 'new-category.csv', 'header-only.csv']) {
    copyFileSync(join(FIXTURES, f), join(work, f));
  }
}, 120_000);

afterAll(() => {
  rmSync(OUT, { recursive: true, force: true });
});

describe('webgpu-mlp train, predict, evaluate', () => {
  it('trains penguins with the defaults: a per-epoch table, the validation confusion matrix with class names, the model', async () => {
    const r = await cli([
      'train',
      'penguins.json',
      '--target',
      'Species',
      '--missing',
      'drop',
      '--out',
      'p.safetensors',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^note {6}dropped 10 of 344 rows with missing values/m);
    expect(r.stdout).toMatch(/^rows {6}267 training, 67 validation \(stratified, seed 1\)$/m);
    expect(r.stdout).toMatch(
      /^network {3}\[10, 64, 3\] relu, softmax \+ cross-entropy; adam, batch 32, up to 300 epochs, early stopping/m,
    );
    expect(r.stdout).toMatch(/^backend {3}WebGPU on \S/m);
    expect(r.stdout).toMatch(/^epoch {2}train loss {2}train acc {2}val loss {2}val acc {4}time$/m);
    expect(r.stdout).toMatch(/^validation accuracy (9\d|100)\.\d\d% \(67 rows\)/m);
    expect(r.stdout).toMatch(/^ {15}Adelie Chinstrap {4}Gentoo {3}recall$/m);
    const file = decodeModel(new Uint8Array(readFileSync(join(work, 'p.safetensors'))));
    expect(JSON.parse(file.metadata.preprocessing as string).target.classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(file.metadata).toMatchObject({ trainedWith: 'webgpu-mlp train', data: 'penguins.json' });
  });

  it('predicts to CSV by class name (stdout and --out), and evaluates with the confusion matrix', async () => {
    const out = await cli(['predict', 'p.safetensors', 'penguins.json', '--keep', 'Species', '--missing', 'drop']);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toBe('Species,predicted Species,P(Adelie),P(Chinstrap),P(Gentoo)');
    expect(lines).toHaveLength(335);
    const right = lines.slice(1).filter((l) => l.split(',')[0] === l.split(',')[1]).length;
    expect(right / 334).toBeGreaterThan(0.95);
    const written = await cli(['predict', 'p.safetensors', 'penguins.json', '--missing', 'drop', '--out', 'pred.csv']);
    expect(written.stdout).toMatch(/^wrote {5}pred\.csv: 334 predictions$/m);
    expect(readFileSync(join(work, 'pred.csv'), 'utf8').split('\n')[0]).toBe(
      'predicted Species,P(Adelie),P(Chinstrap),P(Gentoo)',
    );
    const e = await cli(['evaluate', 'p.safetensors', 'penguins.json', '--missing', 'drop']);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/^accuracy {2}(9\d|100)\.\d\d% on 334 rows/m);
    // Without --missing drop, the first row the model cannot read is named.
    const strict = await cli(['evaluate', 'p.safetensors', 'penguins.json']);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/^webgpu-mlp evaluate: penguins\.json\[3\]: "Beak Length \(mm\)" has no value/m);
  });

  it('trains cars (regression): MAE, RMSE and R² in miles per gallon; predicts values by target name', async () => {
    const r = await cli([
      'train',
      'cars.json',
      '--target',
      'Miles_per_Gallon',
      '--ignore',
      'Name',
      '--missing',
      'drop',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^epoch {2}train loss {2}val loss {4}time$/m);
    const m = /^validation \(79 rows, in the target's units\): MAE ([\d.]+), RMSE ([\d.]+), R² ([\d.]+)$/m.exec(
      r.stdout,
    );
    expect(m).not.toBeNull();
    expect(Number(m?.[3])).toBeGreaterThan(0.75);
    const p = await cli(['predict', 'cars.safetensors', 'cars.json', '--missing', 'drop']);
    expect(p.stdout.split('\n')[0]).toBe('predicted Miles_per_Gallon');
    const values = p.stdout.trim().split('\n').slice(1).map(Number);
    expect(values).toHaveLength(400); // 406 less the 6 without horsepower (a missing target does not matter here)
    expect(Math.min(...values)).toBeGreaterThan(5); // miles per gallon, not standard deviations
  });

  it('trains Seattle weather from a CSV, leaving out the date', async () => {
    const r = await cli(['train', 'seattle-weather.csv', '--target', 'weather', '--ignore', 'date', '--epochs', '5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^task {6}classification of "weather": 5 classes \(drizzle, fog, rain, snow, sun\)$/m);
  });
});

describe('refused before any training, with exit code 2, naming what and where', () => {
  const refused: [string, string[], RegExp][] = [
    [
      'an unknown flag',
      ['train', 'penguins.json', '--target', 'Species', '--epoch', '3'],
      /^webgpu-mlp train: unknown option "--epoch"\. See --help\.$/,
    ],
    [
      'a bad value',
      ['train', 'penguins.json', '--target', 'Species', '--missing', 'skip'],
      /--missing "skip" is invalid: expected error, drop or impute/,
    ],
    ['no data file', ['train', '--target', 'Species'], /train needs a data file/],
    ['a missing file', ['train', 'nope.csv', '--target', 'x'], /DATA nope\.csv: no such file/],
    [
      'an unknown target, with the closest name',
      ['train', 'penguins.json', '--target', 'species'],
      /penguins\.json has no column "species" \(options\.target\); did you mean "Species"\?/,
    ],
    ['no target', ['train', 'penguins.json'], /which column is the target\?/],
    [
      'missing values',
      ['train', 'penguins.json', '--target', 'Species'],
      /penguins\.json\[3\]: "Beak Length \(mm\)" has no value\. 10 rows have missing values/,
    ],
    ['non-UTF-8 bytes', ['train', 'latin1.csv', '--target', 'kind'], /latin1\.csv line 3 \(byte 29\): the bytes 0xE9/],
    ['a ragged row', ['train', 'ragged.csv', '--target', 'kind'], /ragged\.csv line 3 has 2 fields, the header has 3/],
    ['one class', ['train', 'one-class.csv', '--target', 'kind'], /the target "kind" has one class \("a"\)/],
    ['0 rows', ['train', 'header-only.csv', '--target', 'kind'], /has a header but no rows/],
    [
      'an identifier-like column',
      ['train', 'cars.json', '--target', 'Miles_per_Gallon', '--missing', 'drop'],
      /column "Name" has 300 distinct values/,
    ],
    ['--out a directory', ['train', 'penguins.json', '--target', 'Species', '--out', '.'], /--out .* is a directory/],
    ['an unknown command', ['fit', 'x.csv'], /unknown command "fit": expected one of train, predict, evaluate, export/],
    [
      'predict with a model that is not a file',
      ['predict', 'none.safetensors', 'penguins.json'],
      /MODEL none\.safetensors: no such file/,
    ],
  ];
  for (const [what, args, message] of refused) {
    it(what, async () => {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).not.toMatch(/^epoch/m);
    });
  }

  it('predict refuses a model without preprocessing, and names a category it was not trained on', async () => {
    writeFileSync(join(work, 'one.csv'), 'colour,kind\nred,a\nblue,b\nred,a\nblue,b\n');
    const t = await cli(['train', 'one.csv', '--target', 'kind', '--epochs', '1', '--validation', '0']);
    expect(t.code).toBe(0);
    const r = await cli(['predict', 'one.safetensors', 'new-category.csv']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /new-category\.csv line 4: "colour" is "green", a category the network was not trained on/,
    );
    const ignored = await cli(['predict', 'one.safetensors', 'new-category.csv', '--unknown-category', 'ignore']);
    expect(ignored.code).toBe(0);
    expect(ignored.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('--help of the command and of each subcommand', async () => {
    const main = await cli(['--help']);
    expect(main.stdout).toMatch(/^ {2}train DATA --target COL/m);
    for (const c of ['train', 'predict', 'evaluate']) {
      const r = await cli([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: webgpu-mlp ${c} `));
    }
  });
});
