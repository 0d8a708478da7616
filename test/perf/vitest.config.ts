/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// The timing scripts, kept out of `npm test`: npx vitest run --config test/perf/vitest.config.ts
export default defineConfig({
  test: {
    include: ['test/perf/**/*.perf.ts'],
    pool: 'forks',
    setupFiles: ['test/setup/webgpu-runtime.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
