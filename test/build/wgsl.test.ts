/**
 * The shipped WGSL (scripts/vite-plugin-wgsl.ts): comments and indentation go, every line stays where
 * it was, so WGSL errors point at the right line of shaders/*.wgsl.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compactWgsl } from '../../scripts/vite-plugin-wgsl.js';
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import shippedMatmul from '../../shaders/matmul.wgsl?raw';

const SHADERS = fileURLToPath(new URL('../../shaders', import.meta.url));

describe('compactWgsl', () => {
  it('drops comments and indentation and keeps every line in place', () => {
    expect(compactWgsl('// head\n  let x = 1; // note\n\n    fn f() {}\n')).toBe('\nlet x = 1;\n\nfn f() {}\n');
  });

  for (const file of readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl'))) {
    it(`${file}: same lines of code, no comments`, () => {
      const source = readFileSync(join(SHADERS, file), 'utf8');
      const compact = compactWgsl(source);
      expect(compact.split('\n').length).toBe(source.split('\n').length);
      expect(compact).not.toContain('//');
      source.split('\n').forEach((line, i) => {
        const code = line.split('//')[0].trim();
        expect(compact.split('\n')[i]).toBe(code);
      });
    });
  }

  it('is what a ?raw import of a shader gives (the plugin is in the build and the tests)', () => {
    expect(shippedMatmul).toBe(compactWgsl(readFileSync(join(SHADERS, 'matmul.wgsl'), 'utf8')));
  });
});
