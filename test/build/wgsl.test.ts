/**
 * The shipped WGSL (scripts/vite-plugin-wgsl.ts): comments and the whitespace no token needs go,
 * every line stays where it was, so WGSL errors point at the right line of shaders/*.wgsl. That the
 * squeezed shaders still compile and compute is what every kernel test checks (they import them so).
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
  it('drops comments and spaces and keeps every line in place', () => {
    expect(compactWgsl('// head\n  let x = 1; // note\n\n    fn f(a: u32) -> f32 {}\n')).toBe(
      '\nlet x=1;\n\nfn f(a:u32)->f32{}\n',
    );
  });

  it('keeps the spaces between words, and between operators that would join', () => {
    expect(compactWgsl('var p = 1.0 / 17.0;')).toBe('var p=1.0/17.0;');
    expect(compactWgsl('let y = a - -b;')).toBe('let y=a- -b;');
    expect(compactWgsl('x = a < b && c > -d;')).toBe('x=a<b&&c> -d;');
    expect(compactWgsl('let y = a.b * -c.d;')).toBe('let y=a.b* -c.d;');
    expect(compactWgsl('@group(0) @binding(1) var<storage, read> A: array<f32>;')).toBe(
      '@group(0)@binding(1)var<storage,read>A:array<f32>;',
    );
  });

  it('leaves preprocessor lines as they are, but trimmed', () => {
    const flag = '#if $' + '{BIAS}'; // wgsl-preprocessor's syntax, not a template literal
    expect(compactWgsl(`  ${flag}  \n#include "rows.wgsl"`)).toBe(`${flag}\n#include "rows.wgsl"`);
  });

  const files = readdirSync(SHADERS, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.wgsl'));
  it('finds the shaders and their modules', () => {
    expect(files).toContain('matmul.wgsl');
    expect(files).toContain(join('activations', 'gelu.wgsl'));
  });

  for (const file of files) {
    it(`${file}: same lines of code, no comments`, () => {
      const source = readFileSync(join(SHADERS, file), 'utf8');
      const compact = compactWgsl(source);
      expect(compact.split('\n').length).toBe(source.split('\n').length);
      expect(compact).not.toContain('//');
      source.split('\n').forEach((line, i) => {
        const code = line.split('//')[0].trim();
        const shipped = compact.split('\n')[i] as string;
        expect(shipped.replace(/\s/g, '')).toBe(code.replace(/\s/g, ''));
        // Words stay apart: `var p`, `let x`, `fn f`, `return x`.
        expect(shipped.match(/\w+/g)).toEqual(code.match(/\w+/g));
      });
    });
  }

  it('is what a ?raw import of a shader gives (the plugin is in the build and the tests)', () => {
    expect(shippedMatmul).toBe(compactWgsl(readFileSync(join(SHADERS, 'matmul.wgsl'), 'utf8')));
  });
});
