/**
 * The race against TF.js in demo/bench.html, in headless Chromium (WebGPU on SwiftShader): the tiny
 * race (two small cases, two rounds) runs to the end with TF.js loaded lazily (webgpu backend on the page's adapter,
 * wasm from the .wasm files Vite serves), the table has a row per case with both contenders' times and
 * the ratios, the plot is drawn, and the report downloads. A screenshot goes to
 * test-artifacts/bench-race.png. No timing is asserted: speed is the benchmark's (docs/benchmarks.md).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RaceReport } from '../../bench/race.js';
import {
  ARTIFACTS_DIR as ARTIFACTS,
  type Chromium,
  launchChromium,
  openPage,
  servePages,
} from '../helpers/chromium.js';

let server: Awaited<ReturnType<typeof servePages>>;
let browser: Chromium;

beforeAll(async () => {
  server = await servePages('demo');
  browser = await launchChromium({ viewport: { width: 1400, height: 1000 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the race against TF.js in demo/bench.html', () => {
  it('races both contenders on every case in two rounds, tables and plots the ratios, and downloads the report', async () => {
    const { page, errors } = await openPage(browser.context, `${server.baseUrl}/bench.html?race=tiny&rounds=2`);
    await page.waitForFunction(
      () => ['done', 'failed'].includes(document.getElementById('race-status')?.dataset.state ?? ''),
      undefined,
      { timeout: 420_000, polling: 500 },
    );
    const status = (await page.locator('#race-status').textContent()) ?? '';
    console.log(`race page: ${status}`);
    expect(await page.locator('#race-status').getAttribute('data-state'), status).toBe('done');
    const report = (await page.evaluate(() =>
      (globalThis as unknown as { webgpuMlpRace: { report: () => unknown } }).webgpuMlpRace.report(),
    )) as RaceReport;
    expect(report.mode).toBe('tiny');
    expect(report.rounds).toBe(2);
    expect(await page.locator('#race-rounds').inputValue()).toBe('2'); // the URL's rounds, in the field
    expect(report.tfjs).toMatch(/^4\.22\./);
    expect(report.results.map((r) => r.case.name)).toEqual(['table 13×3', 'spirals']);
    for (const r of report.results) {
      expect(r.runs.map((x) => [x.contender, x.status, x.note])).toEqual([
        ['webgpu-mlp', 'ok', undefined],
        ['tfjs-webgpu', 'ok', undefined],
        ['tfjs-wasm', 'ok', undefined],
      ]);
      for (const x of r.runs) {
        expect((x.setupMs as number) + r.case.epochs * (x.epochMs as number)).toBeCloseTo(x.totalMs as number, 3);
        expect(x.finalLoss, x.contender).toBeLessThan(x.firstLoss as number);
      }
      // Two rounds kept; each contender's run is the faster of its two (the lower median).
      expect(r.rounds?.map((round) => round.map((x) => x.contender))).toEqual([
        ['webgpu-mlp', 'tfjs-webgpu', 'tfjs-wasm'],
        ['webgpu-mlp', 'tfjs-webgpu', 'tfjs-wasm'],
      ]);
      for (const [i, x] of r.runs.entries()) {
        expect(x.totalMs).toBe(Math.min(...(r.rounds ?? []).map((round) => round[i]?.totalMs as number)));
      }
      expect(r.vsWebgpu?.total).toBeCloseTo((r.runs[1]?.totalMs as number) / (r.runs[0]?.totalMs as number), 6);
      console.log(`  ${r.case.name}: ${r.valid ? 'valid' : 'void'} (${r.note})`);
    }
    // The table: a row per case, its verdict in the last cell; the plot has ink.
    expect(await page.locator('#race-table tbody tr').count()).toBe(2);
    const verdicts = await page.locator('#race-table tbody tr td:last-child').allTextContents();
    expect(verdicts).toEqual(report.results.map((r) => (r.valid ? 'yes' : `void: ${r.note}`)));
    const inked = await page.locator('#race-plot').evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? [];
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(1000);
    await page.locator('#race-card').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'bench-race.png'), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#race-download').click()]);
    expect(download.suggestedFilename()).toMatch(/^race-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.json$/);
    expect(errors).toEqual([]);
    await page.close();
  }, 600_000);

  it('refuses rounds that are not an integer in 1..99, saying so, without racing', async () => {
    const { page, errors } = await openPage(browser.context, `${server.baseUrl}/bench.html?race=tiny&rounds=0`);
    await page.waitForFunction(() => document.getElementById('race-status')?.dataset.state === 'failed', undefined, {
      timeout: 60_000,
    });
    expect(await page.locator('#race-status').textContent()).toBe(
      'Rounds = "0" is invalid: expected an integer in 1..99.',
    );
    await page.locator('#race-rounds').fill('2.5');
    await page.locator('#race-quick').click();
    expect(await page.locator('#race-status').textContent()).toBe(
      'Rounds = "2.5" is invalid: expected an integer in 1..99.',
    );
    expect(await page.locator('#race-table tbody tr').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
