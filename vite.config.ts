/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { wgsl } from './scripts/vite-plugin-wgsl.js';

// The library build (`npm run build` → dist/) and the tests. The demo pages are built and served
// by vite.demo.config.ts (`npm run demo`, and `npm run build` → dist/demo/); the Node entry points
// (train, bench) by vite.node.config.ts.
export default defineConfig({
  plugins: [wgsl()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // Minified, whitespace included: Vite's default for an ES library keeps the whitespace (codegen
    // off) to preserve /* @__PURE__ */ annotations, which the oxc codegen keeps anyway. The
    // output.minify below takes precedence over this (and over `--minify false`).
    minify: 'oxc',
    lib: {
      entry: 'src/index.ts',
      formats: ['es'],
      fileName: 'index',
    },
    rollupOptions: {
      // Loaded lazily in Node only; never bundled.
      external: ['webgpu', /^node:/],
      // Modules shared with the chunks loaded on demand (the tuner, the vec4 matmul) stay in index.js,
      // which then exports them to those chunks, rather than going to a common chunk of their own.
      preserveEntrySignatures: 'allow-extension',
      output: { minify: { codegen: true }, chunkFileNames: '[name].js' },
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/polling.ts'],
    // Each test file gets its own process: Dawn (and SwiftShader's threads) stay isolated.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
