import { defineConfig } from 'vite';
import { wgsl } from './scripts/vite-plugin-wgsl.js';

// Builds the `webgpu-mlp` command (src/cli/main.ts, the package's bin) into dist/cli/, with the WGSL
// inlined as in the library: `npm run build`, `prepack` and `npm run cli` run it. Node only; the
// WebGPU runtime (`webgpu`, an optional peer) is loaded at run time, never bundled.
export default defineConfig({
  plugins: [wgsl()],
  // Everything bundled (a dev dependency such as wgsl-preprocessor is not installed with the package),
  // but the WebGPU runtime.
  ssr: { noExternal: true, external: ['webgpu'] },
  build: {
    ssr: true,
    outDir: 'dist/cli',
    emptyOutDir: true,
    target: 'node20',
    minify: true,
    rollupOptions: {
      input: { 'webgpu-mlp': 'src/cli/main.ts' },
      external: ['webgpu', /^node:/],
      // One bundle: the library's lazy chunks (device creation, the ONNX export…) are in it already.
      onLog(level, log, handler) {
        if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT') return;
        handler(level, log);
      },
      output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    },
  },
  logLevel: 'warn',
});
