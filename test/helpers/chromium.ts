/**
 * Headless Chromium for the browser tests: WebGPU on SwiftShader, no GPU needed.
 *
 * Chromium needs no flag for WebGPU here beyond --enable-unsafe-webgpu: on Linux without a GPU it
 * finds SwiftShader's Vulkan driver (Debian's chromium package ships it) and hands out the fallback
 * adapter. Pages must be a secure context: serve them from http://127.0.0.1 (see `freePort`).
 * Every launch gets a fresh profile directory, removed by `close()`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { createServer as createViteServer, type InlineConfig } from 'vite';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
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

/** Where browser tests leave screenshots (gitignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts', import.meta.url));

export interface Chromium {
  context: BrowserContext;
  /** Closes the browser and removes its profile directory. Harmless twice. */
  close(): Promise<void>;
}

/** Launches headless Chromium with WebGPU enabled and a fresh profile. */
export async function launchChromium(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'webgpu-mlp-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS],
      headless: true,
      viewport: options.viewport ?? { width: 1280, height: 900 },
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  let closed = false;
  return {
    context,
    async close() {
      if (closed) return;
      closed = true;
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

/**
 * Opens a page that records console errors and uncaught exceptions (check `errors` at the end).
 * `init` runs in the page before its own scripts.
 */
export async function openPage(
  context: BrowserContext,
  url: string,
  init?: () => void,
): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  if (init) await page.addInitScript(init);
  await page.goto(url);
  return { page, errors };
}

/** A Vite dev server on a free port of 127.0.0.1 (a secure context, as WebGPU needs), without HMR. */
export async function serveWithVite(config: InlineConfig): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const port = await freePort();
  const server = await createViteServer({
    logLevel: 'warn',
    ...config,
    server: { ...config.server, host: '127.0.0.1', port, strictPort: true, hmr: false },
  });
  await server.listen();
  return { baseUrl: `http://127.0.0.1:${port}`, close: () => server.close() };
}
