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

export default defineConfig(({ mode }) => ({
  plugins: [wgsl()],
  build: {
    outDir: 'dist',
    emptyOutDir: mode === 'production',
    sourcemap: true,
    // Minified, whitespace included: Vite's default for an ES library keeps the whitespace (codegen
    // off) to preserve /* @__PURE__ */ annotations, which the oxc codegen keeps anyway. The
    // output.minify below takes precedence over this (and over `--minify false`).
    minify: 'oxc',
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
        if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT' && log.message.includes('src/gpu/device.ts')) return;
        handler(level, log);
      },
      // Modules shared with the chunks loaded on demand (the tuner, the vec4 matmul) stay in the entry,
      // which then exports them to those chunks, rather than going to a common chunk of their own.
      preserveEntrySignatures: 'allow-extension',
      // Chunks: what is loaded only on demand (the tuner; device creation when the application brings
      // no device). Hashed names: the two builds write into one dist/.
      output: { minify: { codegen: true }, chunkFileNames: '[name]-[hash].js' },
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/webgpu-runtime.ts', 'test/setup/polling.ts'],
    // Each test file gets its own process: Dawn (and SwiftShader's threads) stay isolated.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
}));
