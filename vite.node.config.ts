import { defineConfig } from 'vite';
import { wgsl } from './scripts/vite-plugin-wgsl.js';

// Builds the Node entry points (src/cli/train.ts, src/cli/export_main.ts, bench/cli.ts) into dist/node/, with the WGSL inlined as in the
// library. `npm run train`, `npm run export` and `npm run bench` build then run them.
export default defineConfig({
  plugins: [wgsl()],
  build: {
    ssr: true,
    outDir: 'dist/node',
    emptyOutDir: true,
    target: 'node20',
    rollupOptions: {
      input: {
        train: 'src/cli/train.ts',
        export: 'src/cli/export_main.ts',
        bench: 'bench/cli.ts',
        setup_probe: 'bench/setup_probe.ts',
      },
      external: ['webgpu', /^node:/, /^@tensorflow\//],
      output: { entryFileNames: '[name].js' },
    },
  },
  logLevel: 'warn',
});
