#!/usr/bin/env node
/**
 * Size budget of the library bundle: gzips dist/index.js (node:zlib, level 9) and fails when the
 * minified + gzipped size is above the budget. Run after `vite build` (`npm run check:package`).
 *
 *   node scripts/size.mjs [file]      default: dist/index.js
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The budget, in bytes of gzip (level 9) of the minified bundle. */
export const BUDGET_BYTES = 40 * 1024;

/** Minified and gzipped sizes of a file, in bytes. */
export function measure(file) {
  const bytes = readFileSync(file);
  return { minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = resolve(process.argv[2] ?? 'dist/index.js');
  let size;
  try {
    size = measure(file);
  } catch (error) {
    console.error(`size: cannot read ${file} (${error.code ?? error.message}); run \`vite build\` first`);
    process.exit(1);
  }
  const ok = size.gzipped <= BUDGET_BYTES;
  console.log(
    `size: ${relative(process.cwd(), file)} ${kb(size.minified)} minified, ${kb(size.gzipped)} gzipped ` +
      `(${size.gzipped} bytes; budget ${kb(BUDGET_BYTES)}) ${ok ? 'ok' : 'OVER BUDGET'}`,
  );
  if (!ok) process.exit(1);
}
