/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// One config for the library build, the demo pages and the tests.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file gets its own process: Dawn (and SwiftShader's threads) stay isolated.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
