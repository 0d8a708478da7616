#!/usr/bin/env node
/**
 * Size budgets of the library's entries: an entry and every chunk it imports statically (transitively),
 * minified, gzipped (node:zlib, level 9) as one stream — what a page that imports it downloads. Fails when an
 * entry is over its budget. The published dist/ is readable ESM (an application's bundler minifies what
 * it ships), so the entries are built again here, minified as they would be shipped, into a temporary
 * folder (`buildMinified`: the same vite.config.ts, with minification on), and measured there.
 *
 *   node scripts/size.mjs [root]      default: the current folder, a copy of this repository (budgets below)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * Budgets in bytes of gzip (level 9) of each entry with the chunks it imports statically.
 * - index.js, the whole library (training, evaluation, checkpoints, the Float64 reference that
 *   `check()` runs, inference, tables): 78.5 KB (78.46 KB measured with issue 24's quick polls,
 *   +0.11 KB: spaceOutDawnPolling's first 0.25 ms of each wait polled at once, and the loss before
 *   training read alone, datasetLoss, beside the evaluation it shares its pass with). 78.4 KB until
 *   then (78.35 KB measured with issue 24's two subgroup
 *   pipelines, +0.05 KB: dA's mask compiled apart, the products that follow another onto the subgroup
 *   kernel, and the context's work queued `later`, which a large step does not wait for). 78.3 KB until
 *   then (78.23 KB measured with issue 24's `direct.subgroup`,
 *   +0.18 KB: its variant, the device's `subgroups` feature asked for and the upgrade chosen by it; the
 *   kernel's WGSL is a chunk loaded by the first device with subgroups). 78.1 KB until then (78.05 KB measured with issue 24's db summed inside dW's
 *   dispatch by the direct kernels, +0.3 KB: the WGSL's column sums and the placeholder binding a
 *   product that writes no db gives). 78.0 KB until then (77.8 KB measured once `requestGpuDevice` loads device
 *   creation on its first call, src/gpu/request_device.ts, −1.2 KB: before, its static export kept device.ts in
 *   the entry, where an application that brings its own GPUDevice never runs it; with issue 24's Node device
 *   without Dawn's bounds checks and the small products that take an 8×8 pipeline already on the device,
 *   +0.3 KB). 78.8 KB until then (78.5 KB measured once prediction on an application's GPU
 *   inputs became a chunk, src/infer/predict_gpu.ts, 0.6 KB gzipped, −0.3 KB: fit's checks of the
 *   application's buffers stay in the entry). 79 KB until then (78.8 KB measured before it; 78.5 KB with issue 22's layers, +6.3 KB: the layer
 *   definitions and their Float64 twins (dropout, LayerNorm, BatchNorm1d), the walker and the step plan's
 *   training and evaluation passes, running statistics and the random stream in models, checkpoints and
 *   files; the layers' kernels, 3.6 KB, are chunks
 *   loaded by the first network that has them). 72.5 KB until then (72.2 KB measured, +0.2 KB since the table defaults moved
 *   into the library for the command and the demo's table page; 72.0 KB before: the divergence rule that measures a
 *   rise against the run's own start and names badly scaled inputs, +0.7 KB, and issue 23's one plan
 *   budget per network and validation-scoped epoch copies and saliency, +0.4 KB). 71 KB until then (70.7 KB measured with issue 23's rule for the
 *   application's GPU buffers: checkAppBuffer, the probe of destroyed or foreign buffers, validation-
 *   scoped submits and a run ended by a refused step, +1.1 KB). 70 KB until then (69.6 KB measured with the preprocessing a table network
 *   carries, its named rows and predictions, +4.3 KB, which the MLP loads only when it meets a table,
 *   so that createMLP alone stays near where it was). 66 KB until then (65.3 KB measured with issue 24's work; 62.6 KB at
 *   c4d76af, before it: the pipelined epochs, the quick matmul kernel compiled first and the default
 *   behind it, one matmul pipeline per activation and the parallel plan preparation took +1.5 KB, the
 *   rest came with the work landed beside it). 61 KB until then. It was 51 KB before tables came in (the
 *   table reader: CSV/TSV and JSON rows, column roles and encoding, the split, with errors that name the
 *   line and column, 10 KB; then the preprocessing a network carries, named rows and predictions, 5 KB;
 *   the MLP loads the table code only when it meets a table, so an application's bundler drops it when
 *   it imports none of it), 50 KB until the out-of-memory, readback and option checks, and 40 KB before the library took in AdamW, the regression
 *   heads, two activations, the kernel contracts (WGSL reflection), the pausable training run, fit's
 *   schedules, early stopping and loss weights, and the matmul variants the tuner picks from (the tuner
 *   itself is a chunk loaded on demand).
 * - infer.js, webgpu-mlp/infer (load a saved file, predict): 23.2 KB (23.13 KB measured with issue 24's
 *   two subgroup pipelines, +0.1 KB: the matmul wrapper and context that training shares). 23.1 KB until
 *   then (23.02 KB measured with issue 24's
 *   `direct.subgroup`, +0.2 KB: a prediction's products move to it as training's do; its WGSL is a chunk
 *   loaded on demand). 22.9 KB until then (22.82 KB measured with issue 24's
 *   db summed inside dW's dispatch by the direct kernels, +0.27 KB: a prediction's forward pass runs on
 *   the pipeline training's dW uses, so the matmul WGSL carries the column sums and every direct product
 *   binds db, a placeholder when it writes none). 22.6 KB until then (22.56 KB measured with issue 24's
 *   small products that take an 8×8 pipeline already on the device, +0.15 KB: prediction plans share
 *   prepareMatmul with training, and the check builds the pipeline's key without compiling). 22.5 KB until
 *   then (22.2 KB measured, −0.55 KB: prediction
 *   on the application's GPU inputs, with the checks of its buffers (checkAppBuffer), is a chunk,
 *   src/infer/predict_gpu.ts, 1.0 KB gzipped, loaded by the first such prediction; an application that
 *   predicts from host memory never downloads it). What stays static and why: the spec's hidden layers
 *   (norms, dropout), the layer kinds' shapes (their tensors and running statistics) and the files'
 *   running statistics are read synchronously by every load (decodeModel: spec, layout, tensors, all
 *   checked before any GPU work), and the package is side-effect free, so they cannot be a chunk
 *   registered by an import; the softmax kernel serves every classifier; the matmul WGSL carries training's
 *   branches (bias gradients, split-K, kept pre-activations) beside the forward, one source for both. Loaded on
 *   demand, 13.5 KB gzipped together: device creation (1.4 KB), the LayerNorm (2.3 KB), BatchNorm (1.9 KB) and
 *   dropout (1.2 KB) kernels, a table network's preprocessing, named rows and affine kernel (8.3 KB), the probe
 *   that names a refused buffer (0.8 KB) and GPU-input prediction (1.0 KB). 23 KB until then (22.8 KB
 *   measured; 22.5 KB with issue 22's layers,
 *   +2.6 KB: the walker's list and the layer kinds' shapes, the spec's hidden layers with their norms and
 *   dropout, the forward plan's evaluation of them (dropout skipped, BatchNorm's running statistics) and
 *   the files' running statistics; the LayerNorm and BatchNorm kernels, 2.2 KB and 2.0 KB, are chunks
 *   loaded by the first network that has one). 20 KB until then (19.9 KB measured with issue 23's
 *   checks of the application's GPU buffers and its validation-scoped predict, +0.4 KB, and the plan
 *   budget shared by a network's caches, counting what a plan costs, +0.2 KB; the probe that names a
 *   refused buffer is a chunk loaded only when a prediction fails). 19.5 KB until then
 *   (19.3 KB measured; 18.4 KB
 *   before issue 24's setup work: the epilogue and the direct kernel's transposes in uniforms so that
 *   one matmul pipeline serves a network, the quick kernel first with the default compiled behind it
 *   (GpuContext.behind) and plans prepared in parallel, +0.8 KB, which a prediction's setup uses too;
 *   18.5 KB until then, 18 KB until the out-of-memory checks of every allocation and the checked
 *   readback came in; 19.3 KB measured with tables: a file with preprocessing loads its reader, its
 *   affine kernel and named rows as chunks, 7.4 KB, so the entry grew by 0.1 KB). What it carries (measured on the
 *   build): the WGSL of its kernels, 2.9 KB gzipped on its own (matmul's tiled and direct forms,
 *   activations, softmax); the kernel contracts, 1.3 KB (the build is that much smaller with the WGSL
 *   reflection and wgsl-preprocessor stubbed out); the GPU context (pipelines, allocation with its
 *   limit and out-of-memory checks, readback), the matmul wrapper, the safetensors and model-file
 *   readers with their checks, the forward plan and the predictor. Device creation is a chunk loaded
 *   only when the application gives no GPUDevice.
 */
export const BUDGETS = { 'index.js': Math.round(78.5 * 1024), 'infer.js': Math.round(23.2 * 1024) };

const STATIC_IMPORT = /(?:import|export)\s*(?:[\w*{}\s,$]*from\s*)?["'`](\.\/[^"'`]+)["'`]/g;
const DYNAMIC_IMPORT = /import\(\s*["'`](\.\/[^"'`]+)["'`]\s*\)/g;

/** The entry file and the relative modules it imports statically, transitively, in import order. */
export function closure(file) {
  const seen = [];
  const visit = (path) => {
    if (seen.includes(path)) return;
    seen.push(path);
    const code = readFileSync(path, 'utf8');
    for (const m of code.matchAll(STATIC_IMPORT)) visit(resolve(dirname(path), m[1]));
  };
  visit(resolve(file));
  return seen;
}

/** Chunks the closure of `file` imports dynamically (loaded on demand), with their own static closures. */
export function onDemand(file) {
  const base = closure(file);
  const lazy = new Set();
  for (const path of base) {
    for (const m of readFileSync(path, 'utf8').matchAll(DYNAMIC_IMPORT)) {
      for (const f of closure(resolve(dirname(path), m[1]))) if (!base.includes(f)) lazy.add(f);
    }
  }
  return [...lazy];
}

const gz = (files) => {
  const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
  return { files: files.length, minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
};

/** Minified and gzipped sizes of an entry with its static chunks, and of what it loads on demand, in bytes. */
export function measure(file) {
  return { ...gz(closure(file)), onDemand: gz(onDemand(file)) };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

/**
 * Builds the browser entries of the repository at `root` (index.js, infer.js, as `vite build` and
 * `vite build --mode infer` do) minified, as an application's bundler would ship them, into `outDir`.
 */
export async function buildMinified(root, outDir) {
  const { build } = await import('vite');
  for (const [i, mode] of ['production', 'infer'].entries()) {
    await build({
      root,
      configFile: join(root, 'vite.config.ts'),
      mode,
      logLevel: 'warn',
      build: {
        outDir,
        emptyOutDir: i === 0,
        sourcemap: false,
        minify: 'oxc',
        // Whitespace too: Vite's default for an ES library keeps it (to keep /* @__PURE__ */
        // annotations, which the oxc codegen keeps anyway).
        rollupOptions: { output: { minify: { codegen: true } } },
      },
    });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? '.');
  const dist = mkdtempSync(join(tmpdir(), 'webgpu-mlp-size-'));
  let failed = false;
  try {
    await buildMinified(root, dist);
    for (const [entry, budget] of Object.entries(BUDGETS)) {
      const file = join(dist, entry);
      if (!existsSync(file)) throw new Error(`size: the minified build made no ${entry}`);
      const size = measure(file);
      const ok = size.gzipped <= budget;
      failed ||= !ok;
      console.log(
        `size: ${entry} (+${size.files - 1} chunks) ${kb(size.minified)} minified, ${kb(size.gzipped)} gzipped ` +
          `(${size.gzipped} bytes; budget ${kb(budget)}) ${ok ? 'ok' : 'OVER BUDGET'}` +
          (size.onDemand.files ? `; ${kb(size.onDemand.gzipped)} gzipped more loaded on demand` : ''),
      );
    }
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
  if (failed) process.exit(1);
}
