/**
 * demo/bench.html in headless Chromium (WebGPU on SwiftShader): the quick suite runs to the end,
 * every figure is verified, the table and the four plots are drawn, the JSON downloads and loads
 * back for a side-by-side comparison. A screenshot goes to test-artifacts/bench-page.png.
 *
 * The page is served by a Vite dev server rooted at demo/ (as `npm run demo` serves it), started
 * here without the demo config so that this test needs nothing but the page and the library.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateBenchReport } from '../../src/bench/schema';
import type { BenchReport } from '../../src/bench/types';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let server: ViteDevServer;
let baseUrl: string;
let profile: string;
let browser: BrowserContext;

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createNetServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => ok(port));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  server = await createServer({
    configFile: false,
    root: join(ROOT, 'demo'),
    server: { host: '127.0.0.1', port, strictPort: true, hmr: false, fs: { allow: [ROOT] } },
    logLevel: 'warn',
  });
  await server.listen();
  baseUrl = `http://127.0.0.1:${port}`;
  profile = mkdtempSync(join(tmpdir(), 'webgpu-mlp-bench-e2e-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ARGS,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    acceptDownloads: true,
  });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('demo/bench.html in headless Chromium', () => {
  it('runs the quick suite, verifies every figure, plots, downloads and compares', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    const t0 = Date.now();
    await page.goto(`${baseUrl}/bench.html?autorun=quick`);
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
      expect(f.status, `${f.name}: ${f.note ?? ''}`).toBe('ok');
      expect(f.verified, f.name).toBe(true);
    }
    expect(await page.locator('#results tr[data-status="ok"]').count()).toBe(report.figures.length);

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
    expect(ratios.length).toBe(report.figures.length);
    expect(new Set(ratios)).toEqual(new Set(['1.00×']));
    await page.screenshot({ path: join(ARTIFACTS, 'bench-page-compare.png'), fullPage: true });

    // A file that is not a report is refused with a reason.
    await page.locator('#compare').setInputFiles({
      name: 'nonsense.json',
      mimeType: 'application/json',
      buffer: Buffer.from('{"schema": "something else"}'),
    });
    await expect.poll(() => page.locator('#status').textContent()).toMatch(/nonsense.json is not a webgpu-mlp/);

    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
