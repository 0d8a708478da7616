/**
 * The exported ONNX files in a browser: onnxruntime-web in headless Chromium, with its WebGPU
 * execution provider (on SwiftShader's adapter here), falling back to its wasm provider only if the
 * WebGPU one cannot start — the test says which ran. The networks are test/helpers/onnx_cases.ts's
 * (every activation and head on random inputs, every layer kind before every head, networks trained
 * on MNIST and on tables), trained and predicted in
 * Node (`mlp.predict`, Dawn); the browser gets the .onnx files and the inputs from a plain file
 * server, and its outputs must be within 1e-6 of `mlp.predict`'s (see compareOutputs for the one
 * exception), at batch sizes 1 and 1,000.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chromium, fileUnder, launchChromium, openPage, serveFiles } from '../helpers/chromium.js';
import {
  compareOutputs,
  type ExportedCase,
  exportCase,
  LAYER_CASES,
  loadRealData,
  RANDOM_CASES,
  REAL_CASES,
} from '../helpers/onnx_cases.js';

const ORT_DIST = fileURLToPath(new URL('../../node_modules/onnxruntime-web/dist', import.meta.url));
const TYPES: Record<string, string> = { '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

/** The page: onnxruntime-web's WebGPU build, and a function that runs one file on one batch. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>onnxruntime-web</title>
<script type="module">
import * as ort from './ort/ort.webgpu.min.mjs';
ort.env.wasm.numThreads = 1; // no cross-origin isolation here: one thread, said once rather than warned
globalThis.ort = ort;
// One session per file, every batch through it: [{ inputs (a URL), rows }] → [{ dims, data }].
globalThis.runOnnx = async (file, batches, D, output, provider, logLevel) => {
  const model = new Uint8Array(await (await fetch(file)).arrayBuffer());
  const session = await ort.InferenceSession.create(model, { executionProviders: [provider], logSeverityLevel: logLevel });
  try {
    const results = [];
    for (const { inputs, rows } of batches) {
      const x = new Float32Array(await (await fetch(inputs)).arrayBuffer());
      const result = await session.run({ inputs: new ort.Tensor('float32', x, [rows, D]) });
      results.push({ dims: result[output].dims, data: Array.from(result[output].data) });
    }
    return results;
  } finally {
    await session.release();
  }
};
document.body.dataset.ready = 'yes';
</script>`;

const files = new Map<string, Uint8Array>();
let server: Awaited<ReturnType<typeof serveFiles>>;
let baseUrl: string;
let browser: Chromium;
const cases: ExportedCase[] = [];

beforeAll(async () => {
  await loadRealData();
  for (const c of [...RANDOM_CASES, ...LAYER_CASES, ...REAL_CASES]) {
    const exported = await exportCase(c);
    const i = cases.push(exported) - 1;
    files.set(`/case${i}.onnx`, exported.onnx);
    for (const b of exported.batches) files.set(`/case${i}-${b.rows}.bin`, new Uint8Array(b.inputs.buffer));
  }
  server = await serveFiles((path) => {
    if (path === '/') return { body: PAGE, type: 'text/html; charset=utf-8' };
    const bytes = files.get(path);
    if (bytes) return { body: bytes, type: 'application/octet-stream' };
    return path.startsWith('/ort/') ? fileUnder(ORT_DIST, path.slice('/ort/'.length)) : undefined;
  }, TYPES);
  baseUrl = server.baseUrl;
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('onnxruntime-web in headless Chromium runs the exported files as mlp.predict computes them', () => {
  it('every case, batch sizes 1 and 1,000, on the WebGPU execution provider (or wasm, said)', async () => {
    const { page, errors } = await openPage(browser.context, `${baseUrl}/`);
    // onnxruntime's own log (verbose: it says where each session placed its nodes) comes as console
    // errors; kept apart from the page's real errors.
    const ortLog: string[] = [];
    const warnings: string[] = [];
    page.on('console', (m) => {
      if (/\[[VIWEF]:onnxruntime/.test(m.text())) ortLog.push(m.text());
      else if (m.type() === 'warning') warnings.push(m.text());
    });
    await page.waitForSelector('body[data-ready="yes"]', { state: 'attached' });
    const adapter = await page.evaluate(async () => {
      const a = await navigator.gpu?.requestAdapter();
      return a ? `${a.info.vendor} ${a.info.architecture} ${a.info.description}`.trim() : 'none';
    });
    const version = await page.evaluate(
      () => (globalThis as unknown as { ort: { env: { versions: { web: string } } } }).ort.env.versions.web,
    );

    type Run = { dims: number[]; data: number[] };
    const run = (i: number, provider: string, logLevel = 0) => {
      const c = cases[i];
      const batches = c.batches.map((b) => ({ inputs: `/case${i}-${b.rows}.bin`, rows: b.rows }));
      return page.evaluate(
        ([f, bs, d, o, p, l]) =>
          (globalThis as unknown as { runOnnx(...a: unknown[]): Promise<Run[]> }).runOnnx(f, bs, d, o, p, l),
        [`/case${i}.onnx`, batches, c.D, c.output, provider, logLevel] as const,
      );
    };

    // The WebGPU provider first; wasm only if it cannot start at all (then the report says so).
    let provider = 'webgpu';
    let fallback = '';
    const report: string[] = [];
    for (const [i, c] of cases.entries()) {
      let runs: Run[];
      try {
        runs = await run(i, provider);
      } catch (error) {
        if (i > 0 || provider !== 'webgpu') throw error;
        provider = 'wasm';
        fallback = ` (the WebGPU provider did not start: ${String((error as Error).message).split('\n')[0]})`;
        runs = await run(i, provider);
      }
      for (const [k, b] of c.batches.entries()) {
        expect(runs[k].dims).toEqual([b.rows, c.C]);
        report.push(compareOutputs(c, b, runs[k].data));
      }
    }
    console.log(
      `onnxruntime-web ${version}, ${provider} execution provider${fallback}; Chromium ${browser.runtime.summary}; adapter ${adapter}:\n` +
        report.join('\n'),
    );
    const placements = ortLog.filter((line) => /placed on/.test(line)).map((line) => line.replace(/^.*\] +/, ''));
    console.log(`node placements: ${[...new Set(placements)].join('; ')}`);
    expect(errors.filter((e) => !/\[[VI]:onnxruntime/.test(e))).toEqual([]);
    if (!fallback) expect(ortLog.filter((line) => /\[[WEF]:onnxruntime/.test(line))).toEqual([]);
    expect(warnings).toEqual([]);
    if (provider === 'webgpu') {
      // every session put every node on the WebGPU provider: none ran on the CPU
      expect(placements.filter((p) => p.startsWith('All nodes placed on [WebGpuExecutionProvider]')).length).toBe(
        cases.length,
      );
      expect(placements.filter((p) => /CPUExecutionProvider/.test(p))).toEqual([]);
    }
    await page.close();
  }, 600_000);
});
