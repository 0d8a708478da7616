/**
 * The table page (demo/tables.html) end to end in headless Chromium on SwiftShader: a file picked or
 * dropped, the target and roles chosen, a short training run, the validation confusion matrix with
 * class names (or predicted against true values), a row edited and predicted, the model downloaded
 * and loaded in Node with loadPredictor (the same prediction), files that cannot be used (each error
 * naming its line or column), a large file's progress, a lost device, and the CPU fallback.
 *
 * Fixtures: the Palmer penguins and the cars tables of the vega-datasets package (a devDependency;
 * licences in test/helpers/datasets.ts), read from node_modules; a hostile copy of penguins made here (a column named `<img src=x onerror=…>`, a class
 * named `<script>…</script>Gentoo`, a file name with markup), and generated CSV files. Runs are short
 * (tens of epochs on a few hundred rows): the machine is a shared 2-core CPU.
 * Screenshots go to test-artifacts/tables-*.png.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPredictor } from '../../src/infer.js';
import type { ClassPrediction, NamedPrediction, ValuePrediction } from '../../src/table/preprocessing.js';
import {
  ARTIFACTS_DIR,
  type Chromium,
  launchChromium,
  openPage,
  servePages,
  waitForStatus,
} from '../helpers/chromium.js';
import { vegaBytes, vegaPath } from '../helpers/datasets.js';

const penguins = JSON.parse(readFileSync(vegaPath('penguins.json'), 'utf8')) as Record<string, unknown>[];
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The hostile names: markup that would run if any of it reached innerHTML. */
const EVIL_COLUMN = '<img src=x onerror="window.__xss=1">';
const EVIL_CLASS = '<script>window.__xss=2</script>Gentoo';
const EVIL_FILE = 'penguins <b onmouseover=alert(1)>.csv';

/** Penguins as CSV, with Island renamed to EVIL_COLUMN and the Gentoo class to EVIL_CLASS. */
function hostilePenguins(): Buffer {
  const columns = Object.keys(penguins[0]);
  const header = columns.map((c) => (c === 'Island' ? EVIL_COLUMN : c));
  const field = (v: unknown) => {
    const s = v === null || v === undefined ? '' : v === 'Gentoo' ? EVIL_CLASS : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [header.map(field).join(','), ...penguins.map((row) => columns.map((c) => field(row[c])).join(','))];
  return Buffer.from(`${lines.join('\n')}\n`);
}

let server: Awaited<ReturnType<typeof servePages>>;
let browser: Chromium;

beforeAll(async () => {
  server = await servePages('demo');
  browser = await launchChromium({ viewport: { width: 1400, height: 1200 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

function open(query = '', init?: () => void): Promise<{ page: Page; errors: string[] }> {
  return openPage(browser.context, `${server.baseUrl}/tables.html${query}`, init);
}

/** The page's latest prediction and the row it was made for (window.webgpuMlpTables). */
function latest(page: Page): Promise<{ row: Record<string, unknown>; prediction: NamedPrediction }> {
  return page.evaluate(() => {
    const t = (window as unknown as { webgpuMlpTables: { row(): object; prediction(): object } }).webgpuMlpTables;
    return { row: t.row(), prediction: t.prediction() } as never;
  });
}

/** Sets a row form field (by its column's name) and waits for the prediction of the row with that value. */
async function editField(page: Page, column: string, value: string): Promise<void> {
  const field = page.locator('#row-form label').filter({ has: page.getByText(column, { exact: true }) });
  const input = field.locator('input, select');
  if ((await input.evaluate((el) => el.tagName)) === 'SELECT') await input.selectOption({ label: value });
  else await input.fill(value);
  await page.waitForFunction(
    ([name, want]) => {
      const row = (window as unknown as { webgpuMlpTables: { row(): Record<string, unknown> } }).webgpuMlpTables.row();
      return row !== undefined && String(row[name as string]) === want;
    },
    [column, value],
    { timeout: 20_000 },
  );
}

/** Downloads the model file through the button; its bytes and the name the page gave it. */
async function download(page: Page, button: string): Promise<{ bytes: Uint8Array; name: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.locator(button).click()]);
  return { bytes: new Uint8Array(readFileSync(await file.path())), name: file.suggestedFilename() };
}

describe('demo/tables.html in headless Chromium', () => {
  it('demo/tables.ts: a hostile penguins file picked, trained, its confusion matrix, a row, the downloaded model in loadPredictor', async () => {
    const { page, errors } = await open();
    await page.locator('#backend[data-kind="webgpu"]').waitFor({ timeout: 30_000 });
    const scripts = await page.locator('script').count();
    await page
      .locator('#file-input')
      .setInputFiles({ name: EVIL_FILE, mimeType: 'text/csv', buffer: hostilePenguins() });
    await waitForStatus(page, 'loaded', 30_000);
    // every string of the file shows as it is, as text
    expect(await page.locator('#data-summary').textContent()).toContain(EVIL_FILE);
    expect(await page.locator('#columns tbody th').allTextContents()).toContain(EVIL_COLUMN);
    await page.locator('#target').selectOption({ label: 'Species' });
    expect(await roleOf(page, 'Species').inputValue()).toBe('target');
    expect(await roleOf(page, 'Species').isDisabled()).toBe(true);
    expect(await roleOf(page, EVIL_COLUMN).inputValue()).toBe('input'); // inferred: a text column, a category input
    await page.locator('#missing').selectOption('drop');
    expect(await page.locator('#plan').getAttribute('data-state')).toBe('ok');
    expect(await page.locator('#plan').textContent()).toContain(`3 classes (${EVIL_CLASS}, Adelie, Chinstrap)`);
    await page.locator('#epochs').fill('40');

    // Responsiveness: the longest main-thread task and the longest gap between frames while training.
    await page.evaluate(() => {
      const w = window as unknown as { longest: number; gap: number };
      w.longest = 0;
      w.gap = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.longest = Math.max(w.longest, e.duration);
      }).observe({ type: 'longtask' });
      let last = 0;
      const tick = (t: number) => {
        if (document.getElementById('status')?.dataset.state === 'training' && last) w.gap = Math.max(w.gap, t - last);
        last = t;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    const t0 = Date.now();
    await page.locator('#train').click();
    await waitForStatus(page, 'done', 120_000);
    const accuracy = Number(await page.locator('#metric').getAttribute('data-value'));
    const { longest, gap } = await page.evaluate(() => {
      const w = window as unknown as { longest: number; gap: number };
      return { longest: w.longest, gap: w.gap };
    });
    console.log(
      `tables e2e: ${await page.locator('#backend-text').textContent()}; penguins, 40 epochs at most, ${((Date.now() - t0) / 1000).toFixed(1)} s: validation accuracy ${accuracy}; longest task ${longest.toFixed(0)} ms, longest gap between frames ${gap.toFixed(0)} ms; ${await page.locator('#status').textContent()}`,
    );
    expect(accuracy).toBeGreaterThan(0.8);
    // A page that waited for training would not paint for its whole length (seconds); here it paints
    // between epochs. Generous bounds: other work shares this machine's two cores.
    expect(longest).toBeLessThan(500);
    expect(gap).toBeLessThan(1000);
    const classes = await page.locator('#confusion thead th.class-name').allTextContents();
    expect(classes).toEqual([EVIL_CLASS, 'Adelie', 'Chinstrap']);
    expect(await page.locator('#confusion tbody th.class-name').allTextContents()).toEqual(classes);
    const counts = (await page.locator('#confusion tbody td[data-true]').allTextContents()).map(Number);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(67); // the validation rows: 20% of the 334 without missing values
    expect(await page.locator('#chart-loss, #loss-legend b').first().textContent()).not.toBe('–');

    // A row: edited, predicted by class name.
    await page.locator('#row-form select, #row-form input').first().waitFor();
    const labels = await page.locator('#row-form label span').allTextContents();
    expect(labels).toContain(EVIL_COLUMN);
    await editField(page, 'Flipper Length (mm)', '230');
    await editField(page, 'Body Mass (g)', '5900');
    await editField(page, EVIL_COLUMN, 'Biscoe');
    const { row, prediction } = await latest(page);
    const named = prediction as ClassPrediction;
    expect(classes).toContain(named.class);
    expect(await page.locator('#row-prediction').textContent()).toBe(named.class);
    expect(Object.keys(named.probabilities).sort()).toEqual([...classes].sort());
    expect(await page.locator('#row-probs .name').allTextContents()).toEqual(classes);

    // The downloaded model predicts the same row the same way.
    const model = await download(page, '#download-model');
    expect(model.name).toBe('penguins _b onmouseover=alert(1)_.safetensors'); // < and > are not for file names
    const predictor = await loadPredictor(model.bytes);
    try {
      const [again] = (await predictor.predict([row])) as ClassPrediction[];
      expect(again.class).toBe(named.class);
      for (const c of classes) expect(again.probabilities[c]).toBeCloseTo(named.probabilities[c], 5);
      console.log(
        `tables e2e: the page's row is ${named.class} (${named.probability}); loadPredictor: ${again.probability}`,
      );
    } finally {
      await predictor.destroy();
    }
    const onnx = await download(page, '#download-onnx');
    expect(onnx.name).toBe('penguins _b onmouseover=alert(1)_.onnx');
    expect(onnx.bytes.length).toBeGreaterThan(1000);

    // Nothing of the file ran: no script, no image, no handler.
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(scripts);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'tables-classification.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
  it('demo/tables.ts: cars dropped, a regression predicted against true values, a value by name; a lost device, restarted', async () => {
    const { page, errors } = await open();
    await page.locator('#backend[data-kind="webgpu"]').waitFor({ timeout: 30_000 });
    await dropFile(page, 'cars.json', vegaBytes('cars.json'), 'application/json');
    await waitForStatus(page, 'loaded', 30_000);
    await page.locator('#target').selectOption({ label: 'Miles_per_Gallon' });
    await page.locator('#missing').selectOption('drop');
    await roleOf(page, 'Name').selectOption('ignore');
    expect(await page.locator('#plan').textContent()).toContain('regression of Miles_per_Gallon');
    await page.locator('#epochs').fill('30');
    await page.locator('#train').click();
    await waitForStatus(page, 'done', 120_000);
    const r2 = Number(await page.locator('#metric').getAttribute('data-value'));
    console.log(
      `tables e2e: cars, 30 epochs at most: validation R² ${r2}; ${await page.locator('#status').textContent()}`,
    );
    expect(r2).toBeGreaterThan(0.6);
    expect(await page.locator('#metric-name').textContent()).toBe('Validation R²');
    expect(await page.locator('#scatter-wrap').isVisible()).toBe(true);
    expect(await page.locator('#scatter-caption').textContent()).toContain(
      'Miles_per_Gallon: predicted (up) against true',
    );
    expect(await page.locator('#metrics').textContent()).toMatch(/^MAE [\d.]+ · RMSE [\d.]+ · R² 0\.\d{4}/);
    expect(await page.locator('#confusion table').count()).toBe(0);
    expect(await page.locator('.acc-card').isVisible()).toBe(false);

    await editField(page, 'Horsepower', '70');
    await editField(page, 'Weight_in_lbs', '2000');
    const light = (await latest(page)).prediction as ValuePrediction;
    await editField(page, 'Weight_in_lbs', '4500');
    const heavy = (await latest(page)).prediction as ValuePrediction;
    console.log(
      `tables e2e: miles per gallon of a light car ${light.values.Miles_per_Gallon}, of a heavy one ${heavy.values.Miles_per_Gallon}`,
    );
    expect(Object.keys(heavy.values)).toEqual(['Miles_per_Gallon']);
    expect(light.values.Miles_per_Gallon).toBeGreaterThan(heavy.values.Miles_per_Gallon);
    expect(Number(await page.locator('#row-prediction').getAttribute('data-value'))).toBe(
      heavy.values.Miles_per_Gallon,
    );
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'tables-regression.png'), fullPage: true });

    // A lost device is reported; Restart trains again on a new one, with the same file and choices.
    await page.evaluate(() =>
      (window as unknown as { webgpuMlpTables: { loseDevice(): void } }).webgpuMlpTables.loseDevice(),
    );
    const lost = page.locator('.notice', { hasText: 'The GPU device was lost' });
    await lost.waitFor({ timeout: 10_000 });
    expect(await page.locator('#backend').getAttribute('data-kind')).toBe('lost');
    await lost.getByRole('button', { name: 'Restart training' }).click();
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'training', undefined, {
      timeout: 30_000,
    });
    await waitForStatus(page, 'done', 120_000);
    expect(await page.locator('#backend').getAttribute('data-kind')).toBe('webgpu');
    expect(Number(await page.locator('#metric').getAttribute('data-value'))).toBe(r2); // the same run, seeded
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  it('demo/tables.ts: files that cannot be used say what and where; a large file shows its progress; roles fix an identifier; { input, output } rows and the cars sample open ready to train', async () => {
    const { page, errors } = await open();
    await page.locator('#backend[data-kind="webgpu"]').waitFor({ timeout: 30_000 });

    // A ragged row: the line and what was expected.
    await pick(page, 'ragged.csv', Buffer.from('a,b,c\n1,2,3\n4,5\n'), 'text/csv');
    await waitForStatus(page, 'failed', 30_000);
    expect(await page.locator('#data-error').isVisible()).toBe(true);
    expect(await page.locator('#data-error').getAttribute('data-line')).toBe('3');
    expect(await page.locator('#data-error-text').textContent()).toMatch(/line 3.*2 fields.*3/);
    expect(await page.locator('#data-error-where').textContent()).toBe('Where: line 3');

    // Bytes that are not UTF-8: the line.
    await pick(page, 'latin1.csv', readFileSync(join(ROOT, 'test/fixtures/tables/latin1.csv')), 'text/csv');
    await waitForStatus(page, 'failed', 30_000);
    expect(await page.locator('#data-error-text').textContent()).toMatch(/UTF-8/);
    expect(await page.locator('#data-error').getAttribute('data-line')).toMatch(/^\d+$/);

    // One column: nothing to predict it from; said on reading, naming the column.
    await pick(page, 'one.csv', Buffer.from('x\n1\n2\n'), 'text/csv');
    await waitForStatus(page, 'failed', 30_000);
    expect(await page.locator('#data-error-text').textContent()).toMatch(
      /^one\.csv has one column \("x"\): a network needs/,
    );
    expect(await page.locator('#data-error-where').textContent()).toBe('Where: column "x"');
    expect(await page.locator('#columns tbody tr').count()).toBe(0);

    // A missing value, with the default "an error": the plan names the row's line and the column, and marks it.
    await pick(page, 'holes.csv', Buffer.from('a,b,label\n1,2,x\n3,,y\n5,6,x\n7,8,y\n'), 'text/csv');
    await waitForStatus(page, 'loaded', 30_000);
    await page.locator('#target').selectOption({ label: 'label' });
    expect(await page.locator('#plan').getAttribute('data-state')).toBe('error');
    expect(await page.locator('#plan').textContent()).toMatch(/"b".*line 3|line 3.*"b"/);
    expect(await rowOf(page, 'b').getAttribute('data-problem')).toBe('true');
    expect(await page.locator('#train').isDisabled()).toBe(true);
    await page.locator('#missing').selectOption('impute');
    expect(await page.locator('#plan').getAttribute('data-state')).toBe('ok');
    expect(await rowOf(page, 'b').getAttribute('data-problem')).toBeNull();

    // A large file: the progress bar moves while it is read.
    const { bytes, rows } = generatedCsv(8 << 20);
    await page.evaluate(() => {
      const w = window as unknown as { seen: number[] };
      w.seen = [];
      const bar = document.getElementById('read-progress') as HTMLProgressElement;
      new MutationObserver(() => w.seen.push(bar.value)).observe(bar, { attributes: true, attributeFilter: ['value'] });
    });
    await pick(page, 'large.csv', bytes, 'text/csv');
    await waitForStatus(page, 'loaded', 60_000);
    const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
    const between = new Set(seen.filter((v) => v > 0 && v < 1));
    console.log(
      `tables e2e: a ${(bytes.length / 2 ** 20).toFixed(1)} MB CSV read with ${between.size} progress points; ${await page.locator('#data-summary').textContent()}`,
    );
    expect(between.size).toBeGreaterThan(3);
    expect(await page.locator('#data-summary').textContent()).toContain(
      `${rows.toLocaleString('en-US')} rows, 6 columns`,
    );
    expect(await page.locator('#data-error').isVisible()).toBe(false);

    // An identifier column is refused, naming it; ignoring it makes a table to train on.
    await page.locator('#target').selectOption({ label: 'label' });
    expect(await page.locator('#plan').getAttribute('data-state')).toBe('error');
    expect(await page.locator('#plan').textContent()).toMatch(/"id".*ignore/);
    expect(await rowOf(page, 'id').getAttribute('data-problem')).toBe('true');
    expect(await page.locator('#train').isDisabled()).toBe(true);
    await roleOf(page, 'id').selectOption('ignore');
    expect(await page.locator('#plan').getAttribute('data-state')).toBe('ok');
    expect(await page.locator('#plan').textContent()).toContain(
      'classification into 3 classes (a, b, c); 4 columns → 4 inputs',
    );
    expect(await page.locator('#train').isEnabled()).toBe(true);

    // ml5/brain.js-style { input, output } rows: their outputs are the target, chosen already.
    const io = Array.from({ length: 20 }, (_, i) => {
      const v = (i % 10) / 10;
      return { input: { r: v, g: 1 - v, b: 0.5 }, output: { color: v < 0.5 ? 'dark' : 'light' } };
    });
    await pick(page, 'colors.json', Buffer.from(JSON.stringify(io)), 'application/json');
    await page.locator('#data-summary', { hasText: 'colors.json' }).waitFor({ timeout: 30_000 });
    await waitForStatus(page, 'ready', 30_000);
    expect(await page.locator('#target option:checked').textContent()).toBe("the rows' outputs: color");
    expect(await page.locator('#plan').textContent()).toMatch(
      /^classification into 2 classes \(dark, light\); 3 columns → 3 inputs/,
    );

    // The bundled cars sample (served with the page): read, its target and roles chosen, ready to train.
    await page.locator('#sample-cars').click();
    await page.locator('#data-summary', { hasText: 'cars.json' }).waitFor({ timeout: 30_000 });
    await waitForStatus(page, 'ready', 30_000);
    expect(await page.locator('#data-summary').textContent()).toMatch(/^cars\.json: 406 rows, 9 columns/);
    expect(await page.locator('#target option:checked').textContent()).toBe('Miles_per_Gallon');
    expect(await page.locator('#missing').inputValue()).toBe('drop');
    expect(await roleOf(page, 'Name').inputValue()).toBe('ignore');
    expect(await page.locator('#plan').textContent()).toMatch(/^regression of Miles_per_Gallon; 7 columns/);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('demo/tables.ts: without WebGPU, says so and trains on the CPU reference; the model file loads', async () => {
    const { page, errors } = await open('', () =>
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }),
    );
    await page.locator('#backend[data-kind="cpu"]').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('.notice', { hasText: 'No WebGPU in this browser' }).count()).toBe(1);
    await pick(page, 'penguins.json', vegaBytes('penguins.json'), 'application/json');
    await waitForStatus(page, 'loaded', 30_000);
    await page.locator('#target').selectOption({ label: 'Species' });
    await page.locator('#missing').selectOption('drop');
    await page.locator('#epochs').fill('15');
    await page.locator('#train').click();
    await waitForStatus(page, 'done', 120_000);
    const accuracy = Number(await page.locator('#metric').getAttribute('data-value'));
    console.log(`tables e2e: CPU reference, penguins, 15 epochs: validation accuracy ${accuracy}`);
    expect(accuracy).toBeGreaterThan(0.8);
    expect(await page.locator('#confusion thead th.class-name').allTextContents()).toEqual([
      'Adelie',
      'Chinstrap',
      'Gentoo',
    ]);
    await editField(page, 'Island', 'Dream');
    const { row, prediction } = await latest(page);
    const named = prediction as ClassPrediction;
    const model = await download(page, '#download-model');
    expect(model.name).toBe('penguins.safetensors');
    const predictor = await loadPredictor(model.bytes);
    try {
      const [again] = (await predictor.predict([row])) as ClassPrediction[];
      // Float64 on the page, float32 on the GPU here: the same class, probabilities within float32's reach.
      expect(again.class).toBe(named.class);
      const apart = Math.max(
        ...Object.keys(named.probabilities).map((c) => Math.abs(again.probabilities[c] - named.probabilities[c])),
      );
      console.log(
        `tables e2e: CPU page ${named.class} ${named.probability}, loadPredictor ${again.probability}: ${apart.toExponential(2)} apart`,
      );
      expect(apart).toBeLessThan(1e-5);
    } finally {
      await predictor.destroy();
    }
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'tables-cpu.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});

/** Picks a file with the page's file input. */
async function pick(page: Page, name: string, bytes: Uint8Array, mimeType: string): Promise<void> {
  await page.locator('#file-input').setInputFiles({ name, mimeType, buffer: Buffer.from(bytes) });
}

/** Drops a file on the drop zone, as a drag from the desktop does. */
async function dropFile(page: Page, name: string, bytes: Uint8Array, type: string): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ({ name, data, type }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], name, { type }));
      return transfer;
    },
    { name, data: [...bytes], type },
  );
  await page.locator('#drop').dispatchEvent('drop', { dataTransfer });
}

/** The row of the columns table for a column, and its role menu. */
function rowOf(page: Page, column: string) {
  return page.locator('#columns tbody tr').filter({ has: page.getByRole('rowheader', { name: column, exact: true }) });
}

function roleOf(page: Page, column: string) {
  return rowOf(page, column).locator('select');
}

/**
 * A CSV of about `size` bytes: an identifier, four numbers and a class (a, b or c, from the first
 * number), made here.
 */
function generatedCsv(size: number): { bytes: Buffer; rows: number } {
  const lines = ['id,x1,x2,x3,x4,label'];
  let bytes = lines[0].length + 1;
  let seed = 1;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  while (bytes < size) {
    const x = [next(), next(), next(), next()].map((v) => (v * 100).toFixed(3));
    const label = Number(x[0]) < 33 ? 'a' : Number(x[0]) < 66 ? 'b' : 'c';
    const line = `r${lines.length},${x.join(',')},${label}`;
    lines.push(line);
    bytes += line.length + 1;
  }
  return { bytes: Buffer.from(`${lines.join('\n')}\n`), rows: lines.length - 1 };
}
