/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { wgsl } from './scripts/vite-plugin-wgsl.js';

// The library build (`npm run build` → dist/) and the tests. The demo pages are built and served
// by vite.demo.config.ts (`npm run demo`, and `npm run build` → dist/demo/); the Node entry points
// (train, bench) by vite.node.config.ts.
// Two library builds into dist/, each tree-shaken on its own: `vite build` (index.js, the whole library)
// and `vite build --mode infer` (infer.js, webgpu-mlp/infer). One build with both entries would put
// the modules they share into common chunks, whole, and the inference entry would carry the training
// half of every shared module (inputs with labels, the heads' losses…).
// `vite build --mode node` builds webgpu-mlp/node (node.js, the WebGPU runtime finder for Node
// applications), a third build: it imports node: modules, and no chunk of the browser entries may.
const ENTRIES: Record<string, Record<string, string>> = {
  production: { index: 'src/index.ts' },
  infer: { infer: 'src/infer.ts' },
  node: { node: 'src/node.ts' },
};

/**
 * The test tiers. `unit` is the edit–test loop (`npm run test:fast`): kernels against their Float64
 * twins, the reference against finite differences, the model's definitions, files, options, and whole
 * training steps against the reference. `integration` is the library end to end in-process (fit,
 * predict, reliability, the tuner, types). Both run two files at a time (one process each, the GPU
 * being SwiftShader on a CPU), interleaved. `e2e` runs after them, one file at a time: the browser
 * pages, the package, the CLI, the benchmark and the full MNIST demo — they build into dist/, start
 * Chromium or child processes, and some time themselves.
 */
const E2E = [
  'test/e2e/**/*.test.ts',
  'test/package/**/*.test.ts',
  'test/cli/train.test.ts',
  'test/cli/tables.test.ts',
  'test/bench/bench.test.ts',
  'test/bench/page.test.ts',
  'test/bench/race_page.test.ts',
  'test/bench/mnist.test.ts',
  'test/tune/browser.test.ts',
  'test/node/webgpu-runtime.machine.test.ts',
];
const UNIT = [
  'test/kernels/**/*.test.ts',
  'test/reference/**/*.test.ts',
  'test/model/**/*.test.ts',
  'test/optim/**/*.test.ts',
  'test/io/**/*.test.ts',
  'test/data/**/*.test.ts',
  'test/gpu/**/*.test.ts',
  'test/docs/**/*.test.ts',
  'test/build/**/*.test.ts',
  'test/cli/args.test.ts',
  'test/cli/format.test.ts',
  'test/cli/export.test.ts',
  'test/bench/verify.test.ts',
  'test/node/webgpu-runtime.test.ts',
  'test/reliability/options_fuzz.test.ts',
  'test/reliability/file_fuzz.test.ts',
  'test/train/step.test.ts',
  'test/train/submit.test.ts',
  'test/train/bit_identity.test.ts',
  'test/table/csv.test.ts',
  'test/table/read.test.ts',
  'test/table/encode.test.ts',
  'test/table/split.test.ts',
  'test/table/preprocessing.test.ts',
  'test/table/defaults.test.ts',
];
export const TEST_TIERS: { name: string; include: string[]; exclude?: string[]; workers: number; order: number }[] = [
  { name: 'unit', include: UNIT, workers: 2, order: 0 },
  { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...E2E], workers: 2, order: 0 },
  { name: 'e2e', include: E2E, workers: 1, order: 1 },
];

export default defineConfig(({ mode }) => ({
  plugins: [wgsl()],
  build: {
    outDir: 'dist',
    emptyOutDir: mode === 'production',
    sourcemap: true,
    // Readable ESM, not minified: an application's bundler minifies what it ships, and a stack trace
    // through dist/ points at a line a person can read (a minified line is tens of kilobytes, which
    // Node prints above every uncaught error). The size budgets are measured on a minified build of
    // the same entries (scripts/size.mjs), as an application would ship them.
    minify: false,
    lib: {
      entry: ENTRIES[mode] ?? ENTRIES.production,
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: {
      // Loaded lazily in Node only; never bundled.
      external: ['webgpu', /^node:/],
      // The library exports requestGpuDevice, so device creation is in index.js itself; the lazy
      // import that keeps it out of infer.js is then a no-op, as intended.
      onLog(level, log, handler) {
        if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT' && /src\/gpu\/(device|refused)\.ts/.test(log.message)) return;
        // The table code likewise: loaded by the MLP when it meets a table, and exported by index.js itself.
        if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT' && log.message.includes('src/table/network.ts')) return;
        // The layers' kernels (LayerNorm, BatchNorm, dropout): chunks loaded by the first network that has
        // one, in webgpu-mlp/infer and in the library alike.
        if (
          log.code === 'INEFFECTIVE_DYNAMIC_IMPORT' &&
          /src\/kernels\/(layer_norm|batch_norm|dropout)\.ts/.test(log.message)
        )
          return;
        handler(level, log);
      },
      // Modules shared with the chunks loaded on demand (the tuner, the vec4 matmul) stay in the entry,
      // which then exports them to those chunks, rather than going to a common chunk of their own.
      preserveEntrySignatures: 'allow-extension',
      // Chunks: what is loaded only on demand (the tuner; device creation when the application brings
      // no device). Hashed names: the two builds write into one dist/.
      output: { chunkFileNames: '[name]-[hash].js' },
    },
  },
  test: {
    setupFiles: ['test/setup/webgpu-runtime.ts', 'test/setup/polling.ts'],
    // Each test file gets its own process: Dawn (and SwiftShader's threads) stay isolated.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Three tiers (TEST_TIERS below). `npm test` runs them all, as CI does; `npm run test:fast` the
    // first alone, for the edit–test loop (under 5 minutes on a 2-core machine).
    projects: TEST_TIERS.map(({ name, include, exclude = [], workers, order }) => ({
      extends: true,
      test: { name, include, exclude, maxWorkers: workers, sequence: { groupOrder: order } },
    })),
  },
}));
