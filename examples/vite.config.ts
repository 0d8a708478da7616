import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The example pages, served from this repository with `webgpu-mlp` resolved to src/ (an application
// that installed the package needs no alias):
//   npx vite -c examples/vite.config.ts      then open /spirals/ or /recipes/
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: { alias: { 'webgpu-mlp': fileURLToPath(new URL('../src/index.ts', import.meta.url)) } },
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
  // Not the default node_modules/.vite, which the demo's dev server uses.
  cacheDir: fileURLToPath(new URL('../node_modules/.vite-examples', import.meta.url)),
});
