/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// One config for the library build (`npm run build` → dist/), the demo pages and the tests.
// The Node entry points (train, bench) are built by vite.node.config.ts.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    lib: {
      entry: 'src/index.ts',
      formats: ['es'],
      fileName: 'index',
    },
    rollupOptions: {
      // Loaded lazily in Node only; never bundled.
      external: ['webgpu', /^node:/],
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file gets its own process: Dawn (and SwiftShader's threads) stay isolated.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
