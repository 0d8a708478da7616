/**
 * demo/bench.html in headless Chromium (WebGPU on SwiftShader): the quick suite runs to the end,
 * every figure is verified, the table, the tuning table and the four plots are drawn, the JSON
 * downloads and loads back for a side-by-side comparison, and the saved tuning can be forgotten. A screenshot goes to test-artifacts/bench-page.png.
 *
 * The page is served by a Vite dev server rooted at demo/ (as `npm run demo` serves it), started
 * here without the demo config (no MNIST assets) so that this test needs nothing but the page, the
 * library and the WGSL plugin that resolves the shaders' includes (scripts/vite-plugin-wgsl.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateBenchReport } from '../../bench/schema.js';
import type { BenchReport } from '../../bench/types.js';
import {
  ARTIFACTS_DIR as ARTIFACTS,
  type Chromium,
  launchChromium,
  openPage,
  servePages,
} from '../helpers/chromium.js';

let server: Awaited<ReturnType<typeof servePages>>;
let baseUrl: string;
/** Where the downloaded report is saved. */
let profile: string;
let browser: Chromium;

beforeAll(async () => {
  server = await servePages('demo');
  baseUrl = server.baseUrl;
  profile = mkdtempSync(join(tmpdir(), 'webgpu-mlp-bench-e2e-'));
  browser = await launchChromium({ viewport: { width: 1400, height: 1000 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('demo/bench.html in headless Chromium', () => {
  it('runs the quick suite, verifies every figure, plots, downloads and compares', async () => {
    const t0 = Date.now();
    const { page, errors } = await openPage(browser.context, `${baseUrl}/bench.html?autorun=quick`);
    await page.waitForFunction(
      () => ['done', 'failed'].includes(document.getElementById('status')?.dataset.state ?? ''),
      undefined,
      { timeout: 240_000, polling: 500 },
    );
    const status = (await page.locator('#status').textContent()) ?? '';
    console.log(`bench page: ${((Date.now() - t0) / 1000).toFixed(1)} s — ${status}`);
    expect(await page.locator('#status').getAttribute('data-state'), status).toBe('done');

    const report = (await page.evaluate(
      () => (globalThis as unknown as { webgpuMlpBench: { report: unknown } }).webgpuMlpBench.report,
    )) as BenchReport;
    expect(validateBenchReport(report)).toEqual([]);
    expect(report.environment.runtime).toBe('browser');
    for (const f of report.figures) {
      if (f.suite === 'tune' && f.status === 'skipped') continue; // over a shape's share of the tuning budget
      expect(f.status, `${f.name}: ${f.note ?? ''}`).toBe('ok');
      expect(f.verified, f.name).toBe(true);
    }
    const ok = report.figures.filter((f) => f.status === 'ok').length;
    expect(await page.locator('#results tr[data-status="ok"]').count()).toBe(ok);
    // Untuned and tuned steps side by side; the tuning table: one group per shape, one pick in each.
    expect(report.figures.filter((f) => f.suite === 'step').map((f) => f.params.tuned)).toEqual([false, true]);
    const shapes = new Set(
      report.figures.filter((f) => f.suite === 'tune').map((f) => `${f.params.origin} ${f.params.shape}`),
    );
    expect(await page.locator('#tuning tr.group').count()).toBe(shapes.size);
    expect(await page.locator('#tuning tr[data-picked="true"]').count()).toBe(shapes.size);
    expect(await page.locator('#tuning-adapter').textContent()).toMatch(/^On .*swiftshader|^On /i);

    // Every plot has ink: count the non-transparent pixels of each canvas.
    for (const id of ['plot-matmul', 'plot-shapes', 'plot-bandwidth', 'plot-steps']) {
      const inked = await page.locator(`#${id}`).evaluate((c: HTMLCanvasElement) => {
        const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
        return n;
      });
      expect(inked, id).toBeGreaterThan(2000);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'bench-page.png'), fullPage: true });

    // Download the JSON, then load it back as the earlier report: every ratio is 1.00×.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
    expect(download.suggestedFilename()).toMatch(/^bench-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.json$/);
    const saved = join(profile, 'downloaded.json');
    await download.saveAs(saved);
    const downloaded = JSON.parse(readFileSync(saved, 'utf8')) as BenchReport;
    expect(downloaded).toEqual(report);
    await page.locator('#compare').setInputFiles(saved);
    await page.locator('#results th', { hasText: 'earlier' }).waitFor({ timeout: 10_000 });
    const ratios = await page.locator('#results tr[data-status="ok"] td:last-child').allTextContents();
    expect(ratios.length).toBe(ok);
    expect(new Set(ratios)).toEqual(new Set(['1.00×']));
    await page.screenshot({ path: join(ARTIFACTS, 'bench-page-compare.png'), fullPage: true });

    // A file that is not a report is refused with a reason.
    await page.locator('#compare').setInputFiles({
      name: 'nonsense.json',
      mimeType: 'application/json',
      buffer: Buffer.from('{"schema": "something else"}'),
    });
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/nonsense.json is not a webgpu-mlp/);

    // "Forget saved tuning" empties the browser's store of picks (IndexedDB webgpu-mlp-tune), which the
    // benchmark itself never writes (its context keeps picks in memory).
    const stored = () =>
      page.evaluate(
        () =>
          new Promise<number>((resolve, reject) => {
            const r = indexedDB.open('webgpu-mlp-tune', 1);
            r.onupgradeneeded = () => r.result.createObjectStore('picks');
            r.onerror = () => reject(r.error);
            r.onsuccess = () => {
              const get = r.result.transaction('picks').objectStore('picks').count();
              get.onsuccess = () => {
                r.result.close();
                resolve(get.result);
              };
            };
          }),
      );
    expect(await stored()).toBe(0);
    await page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const r = indexedDB.open('webgpu-mlp-tune', 1);
          r.onsuccess = () => {
            const put = r.result.transaction('picks', 'readwrite').objectStore('picks').put({ x: 1 }, 'entries');
            put.onsuccess = () => {
              r.result.close();
              resolve();
            };
          };
        }),
    );
    expect(await stored()).toBe(1);
    await page.locator('#clear-tuning').click();
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/Forgot the tuning picks/);
    expect(await stored()).toBe(0);

    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
