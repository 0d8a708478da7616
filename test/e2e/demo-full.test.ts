/**
 * The demo's default run, in full, in headless Chromium: all 60,000 training images, the page's
 * own defaults (784 → 256 → 10 ReLU, SGD + momentum 0.05, batch 128, 10 epochs, seed 1), judged on
 * all 10,000 test images. It must reach 98% test accuracy (measured here: 98.12% after 10 epochs,
 * 158 s on SwiftShader in headless Chromium, ~5,000 samples/s). Part of `npm test`, so CI shows it.
 *
 * The page after the run is saved to test-artifacts/demo-full.png, the figures to
 * test-artifacts/demo-full.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ARTIFACTS_DIR, type Chromium, launchChromium, openPage, serveWithVite } from '../helpers/chromium.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TARGET = 0.98;

let server: Awaited<ReturnType<typeof serveWithVite>>;
let browser: Chromium;
let baseUrl: string;

beforeAll(async () => {
  server = await serveWithVite({ configFile: join(ROOT, 'vite.demo.config.ts') });
  baseUrl = server.baseUrl;
  browser = await launchChromium({ viewport: { width: 1400, height: 1000 } });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

it('trains MNIST to 98% test accuracy with the page defaults', async () => {
  const { page, errors } = await openPage(browser.context, `${baseUrl}/`);
  await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'ready', undefined, {
    timeout: 120_000,
  });
  expect(await page.locator('#backend').getAttribute('data-kind')).toBe('webgpu');
  expect(await page.locator('#train-count').textContent()).toBe('60,000');
  const settings = await page.evaluate(() => {
    const value = (id: string) => (document.getElementById(id) as HTMLInputElement | HTMLSelectElement).value;
    return {
      hidden: value('hidden'),
      activation: value('activation'),
      optimizer: value('optimizer'),
      learningRate: value('lr'),
      batchSize: value('batch'),
      epochs: value('epochs'),
    };
  });
  const adapter = await page.evaluate(async () => {
    const a = await navigator.gpu.requestAdapter();
    return a ? `${a.info.vendor} ${a.info.architecture} ${a.info.description}`.trim() : 'none';
  });

  const t0 = Date.now();
  await page.locator('#train').click();
  // Every evaluation the page makes (its x is in epochs) is logged, so progress shows.
  const evaluations: { x: number; accuracy: number; seconds: number }[] = [];
  for (;;) {
    const state = await page.locator('#status').getAttribute('data-state');
    const x = await page.locator('#test-accuracy').getAttribute('data-x');
    if (x !== null && Number(x) !== evaluations.at(-1)?.x) {
      const accuracy = Number(await page.locator('#test-accuracy').getAttribute('data-value'));
      const seconds = (Date.now() - t0) / 1000;
      evaluations.push({ x: Number(x), accuracy, seconds });
      console.log(`demo-full: epoch ${Number(x).toFixed(2)}, test accuracy ${accuracy}, ${seconds.toFixed(0)} s`);
    }
    if (state === 'done' || state === 'failed') break;
    await page.waitForTimeout(2_000);
  }
  const status = (await page.locator('#status').textContent()) ?? '';
  expect(await page.locator('#status').getAttribute('data-state'), status).toBe('done');
  const accuracy = Number(await page.locator('#test-accuracy').getAttribute('data-value'));
  const seconds = (Date.now() - t0) / 1000;
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'demo-full.png'), fullPage: true });
  writeFileSync(
    join(ARTIFACTS_DIR, 'demo-full.json'),
    `${JSON.stringify({ adapter, settings, accuracy, seconds, evaluations, date: new Date().toISOString() }, null, 2)}\n`,
  );
  console.log(`demo-full: ${adapter}: test accuracy ${accuracy} after ${seconds.toFixed(0)} s`);
  expect(accuracy).toBeGreaterThanOrEqual(TARGET);
  expect(errors).toEqual([]);
  // A limit for a hung page, not a speed check (the time goes to the artifact): a run takes 160–750 s
  // on this 2-core machine depending on its load and on what else the suite runs meanwhile.
}, 1_800_000);
