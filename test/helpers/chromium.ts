/**
 * Headless Chromium for the browser tests: WebGPU on SwiftShader, no GPU needed.
 *
 * The browser comes from src/node/webgpu-runtime.ts (`findBrowser`): the system's Chromium if it
 * runs (Debian's chromium package ships SwiftShader's Vulkan driver), else the one packaged in the
 * npm package @sparticuz/chromium (a devDependency), unpacked once into node_modules/.cache/, with
 * the flags and libraries it needs. `WEBGPU_MLP_RUNTIME=packaged` (or `{ runtime: 'packaged' }`)
 * forces the packaged one; test/e2e/static.test.ts always uses it, so both stay tested.
 *
 * Beyond --enable-unsafe-webgpu (without it `requestAdapter()` returns null) no WebGPU flag is
 * needed: on Linux without a GPU Chromium hands out SwiftShader's fallback adapter. Pages must be a
 * secure context: serve them from http://127.0.0.1 (see `freePort`). Every launch gets a fresh
 * profile directory, removed by `close()`.
 */
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { createServer as createViteServer, type InlineConfig } from 'vite';
import { wgsl } from '../../scripts/vite-plugin-wgsl.js';
import {
  type BrowserRuntime,
  findBrowser,
  type RuntimeRequest,
  runtimeRequest,
} from '../../src/node/webgpu-runtime.js';

/** Flags every launch gets, the system's Chromium and the packaged one alike. */
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
  /** Which Chromium this is (the system's or the packaged one) and how it was started. */
  runtime: BrowserRuntime;
  /** Closes the browser and removes its profile directory. Harmless twice. */
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with WebGPU enabled and a fresh profile: the system's, or the packaged
 * one when the system has none, when the system's fails to start, or when `runtime` (default:
 * WEBGPU_MLP_RUNTIME) is `'packaged'`.
 */
export async function launchChromium(
  options: { viewport?: { width: number; height: number }; runtime?: RuntimeRequest } = {},
): Promise<Chromium> {
  const request = options.runtime ?? runtimeRequest();
  const runtime = findBrowser(request);
  try {
    return await launch(runtime, options.viewport);
  } catch (error) {
    if (runtime.kind !== 'system' || request === 'system') throw launchError(runtime, error);
    const packaged = findBrowser('packaged');
    console.warn(
      `launchChromium: ${runtime.summary} did not start (${firstLine(error)}); using ${packaged.summary} instead`,
    );
    try {
      return await launch(packaged, options.viewport);
    } catch (again) {
      throw launchError(packaged, again);
    }
  }
}

async function launch(runtime: BrowserRuntime, viewport?: { width: number; height: number }): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'webgpu-mlp-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: runtime.executablePath,
      args: [...CHROMIUM_ARGS, ...runtime.args],
      env: { ...process.env, ...runtime.env } as Record<string, string>,
      headless: true,
      viewport: viewport ?? { width: 1280, height: 900 },
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  let closed = false;
  return {
    context,
    runtime,
    async close() {
      if (closed) return;
      closed = true;
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

function launchError(runtime: BrowserRuntime, cause: unknown): Error {
  return new Error(
    `Chromium did not start: ${runtime.summary} (${runtime.executablePath}) failed with: ${firstLine(cause)}. ` +
      'Run `npm ci` to reinstall the packaged one, or set WEBGPU_MLP_RUNTIME=packaged to skip a broken system Chromium.',
    { cause },
  );
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
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

/**
 * Waits for a demo page's status line (`#status`, its `data-state`) to reach `state`, or to stop at
 * `failed` or `lost`; throws with the line's text when it stopped anywhere but `state`.
 */
export async function waitForStatus(page: Page, state: string, timeout: number): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const s = document.getElementById('status')?.dataset.state;
      return s === want || s === 'failed' || s === 'lost';
    },
    state,
    { timeout, polling: 200 },
  );
  const status = page.locator('#status');
  const reached = await status.getAttribute('data-state');
  if (reached !== state)
    throw new Error(`the page's status is ${reached}, not ${state}: ${await status.textContent()}`);
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

/**
 * A Vite dev server rooted at `folder` of the repository (`demo`, a test's own page) without the demo
 * config (no MNIST assets): the pages, the library, and the WGSL plugin that resolves the shaders'
 * includes (scripts/vite-plugin-wgsl.ts), as `npm run demo` serves them.
 */
export function servePages(folder: string): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  return serveWithVite({
    configFile: false,
    plugins: [wgsl()],
    root: join(root, folder),
    server: { fs: { allow: [root] } },
  });
}

/** What a plain file server answers for a path: a file on disk, bytes or text in memory, or nothing (404). */
export type Served = { file: string } | { body: Uint8Array | string; type: string } | undefined;

/**
 * A plain HTTP server (no Vite, as any static host) on a free port of 127.0.0.1, a secure context:
 * `route` says what to answer for each request's path; files get their type from `types` by
 * extension, else application/octet-stream (and no Content-Encoding).
 */
export async function serveFiles(
  route: (pathname: string) => Served,
  types: Record<string, string> = {},
): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server = createHttpServer((req, res) => {
    const served = route(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!served) {
      res.writeHead(404).end();
    } else if ('file' in served) {
      res.writeHead(200, { 'Content-Type': types[extname(served.file)] ?? 'application/octet-stream' });
      createReadStream(served.file).pipe(res);
    } else {
      res.writeHead(200, { 'Content-Type': served.type }).end(served.body);
    }
  });
  const port = await freePort();
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** The file `relative` names inside `root` (a folder: its index.html), or undefined when it is outside `root` or missing. */
export function fileUnder(root: string, relative: string): { file: string } | undefined {
  let file = normalize(join(root, relative));
  if (file !== root && !file.startsWith(`${root}${sep}`)) return undefined;
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  return existsSync(file) && statSync(file).isFile() ? { file } : undefined;
}
