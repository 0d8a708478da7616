/**
 * `npm run build` writes the demo as a static site (dist/demo/) that works from any static host:
 * built here into a temporary folder, served by a plain file server (no Vite) under a sub-path,
 * opened in headless Chromium: the data loads, a short run trains, the table page trains on its bundled
 * sample, and the bench page opens.
 * It always uses the packaged Chromium (@sparticuz/chromium, see test/helpers/chromium.ts), so that
 * the bare-machine browser is tested in every run, also where the system has its own.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chromium, fileUnder, launchChromium, openPage, serveFiles, waitForStatus } from '../helpers/chromium.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SUBPATH = '/some/where/demo/';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.map': 'application/json',
  '.gzip': 'application/octet-stream', // as any static host: no Content-Encoding
};

let out: string;
let server: Awaited<ReturnType<typeof serveFiles>>;
let baseUrl: string;
let browser: Chromium;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'webgpu-mlp-static-'));
  await build({
    configFile: join(ROOT, 'vite.demo.config.ts'),
    build: { outDir: out, emptyOutDir: true },
    logLevel: 'warn',
  });
  server = await serveFiles(
    (path) => (path.startsWith(SUBPATH) ? fileUnder(out, path.slice(SUBPATH.length)) : undefined),
    TYPES,
  );
  baseUrl = `${server.baseUrl}${SUBPATH}`;
  browser = await launchChromium({ runtime: 'packaged' });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('the built demo on a plain static server, under a sub-path', () => {
  it('runs in the packaged Chromium, which has a WebGPU adapter', async () => {
    expect(browser.runtime.kind).toBe('packaged');
    const { page } = await openPage(browser.context, `${baseUrl}mnist/manifest.json`); // any page of the origin
    const adapter = await page.evaluate(async () => {
      const a = await navigator.gpu?.requestAdapter();
      return a ? `${a.info.vendor} ${a.info.architecture}` : null;
    });
    console.log(`browser: ${browser.runtime.summary}; adapter: ${adapter}`);
    expect(adapter).toMatch(/swiftshader/);
    await page.close();
  });

  it('has the pages, the compressed data set and no absolute asset paths', () => {
    for (const f of [
      'index.html',
      'tables.html',
      'bench.html',
      'mnist/manifest.json',
      'mnist/train-images-idx3-ubyte.gzip',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    for (const page of ['index.html', 'tables.html', 'bench.html']) {
      const html = readFileSync(join(out, page), 'utf8');
      expect(html.match(/(?:src|href)="\/[^"]*"/g) ?? [], `${page}: root-absolute paths`).toEqual([]);
      expect(html).toMatch(/src="\.\/assets\//);
    }
  });

  it('loads MNIST and trains a short run', async () => {
    const { page, errors } = await openPage(
      browser.context,
      `${baseUrl}index.html?subset=2000&test=1000&epochs=1&batch=32&hidden=64&opt=adam&lr=0.003`,
    );
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'ready', undefined, {
      timeout: 120_000,
    });
    expect(await page.locator('#backend').getAttribute('data-kind')).toBe('webgpu');
    await page.locator('#train').click();
    await waitForStatus(page, 'done', 120_000);
    expect(Number(await page.locator('#test-accuracy').getAttribute('data-value'))).toBeGreaterThan(0.7);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('the table page trains on its bundled penguins sample (a few epochs) and names its classes', async () => {
    const { page, errors } = await openPage(browser.context, `${baseUrl}tables.html`);
    await page.locator('#backend[data-kind="webgpu"]').waitFor({ timeout: 60_000 });
    await page.locator('#sample-penguins').click(); // the sample is an asset of the build, fetched from beside the page
    await waitForStatus(page, 'ready', 30_000);
    expect(await page.locator('#target option:checked').textContent()).toBe('Species');
    expect(await page.locator('#plan').textContent()).toMatch(
      /^classification into 3 classes \(Adelie, Chinstrap, Gentoo\)/,
    );
    await page.locator('#epochs').fill('5');
    await page.locator('#train').click();
    await waitForStatus(page, 'done', 120_000);
    expect(await page.locator('#confusion thead th.class-name').allTextContents()).toEqual([
      'Adelie',
      'Chinstrap',
      'Gentoo',
    ]);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('opens the benchmark page', async () => {
    const { page, errors } = await openPage(browser.context, `${baseUrl}bench.html`);
    await page.locator('#run-quick').waitFor({ timeout: 30_000 });
    expect(await page.locator('#run-quick').isEnabled()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
