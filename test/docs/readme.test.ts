/**
 * The README's code recipes are copies of code the tests run. Each recipe block follows a marker
 *
 *   <!-- from examples/recipes/main.ts#own-device -->
 *
 * naming an example file and, optionally, a `// #region own-device` … `// #endregion` in it (in a
 * Python file, `# region load` … `# endregion`). This test checks every block against its source,
 * and that some test runs the example.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Recipe {
  file: string;
  region: string | undefined;
  code: string;
  line: number;
}

function recipes(markdown: string): Recipe[] {
  const out: Recipe[] = [];
  const marker = /<!-- from ([^\s#]+)(?:#([\w-]+))? -->\n```\w*\n([\s\S]*?)```/g;
  for (const m of markdown.matchAll(marker)) {
    out.push({ file: m[1], region: m[2], code: m[3], line: markdown.slice(0, m.index).split('\n').length });
  }
  return out;
}

/** The region markers of a file: `// #region name` … `// #endregion`, or in Python `# region name` … `# endregion`. */
function regionMarkers(file: string, region: string): { open: string; close: string } {
  return file.endsWith('.py')
    ? { open: `# region ${region}`, close: '# endregion' }
    : { open: `// #region ${region}`, close: '// #endregion' };
}

/** The text of a file, or of one `#region` in it, without the region markers. */
function source(file: string, region: string | undefined): string {
  const text = readFileSync(join(ROOT, file), 'utf8');
  if (!region) return text;
  const { open, close } = regionMarkers(file, region);
  const start = text.indexOf(`${open}\n`);
  if (start < 0) throw new Error(`${file} has no "${open}"`);
  const body = text.slice(start + `${open}\n`.length);
  const end = body.indexOf(`${close}\n`);
  if (end < 0) throw new Error(`${file}: "${open}" has no "${close}"`);
  return body.slice(0, end);
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

describe('README recipes', () => {
  const found = recipes(README);

  it('are there: quick start, own device, weights, save/load, worker, Python', () => {
    expect(found.map((r) => `${r.file}${r.region ? `#${r.region}` : ''}`)).toEqual(
      expect.arrayContaining([
        'examples/node/mnist.mjs',
        'examples/spirals/main.ts#train-and-plot',
        'examples/recipes/main.ts#own-device',
        'examples/recipes/main.ts#weights',
        'examples/recipes/main.ts#save-load',
        'examples/recipes/main.ts#worker',
        'examples/recipes/worker.ts',
        'examples/python/load_model.py#load',
        'examples/python/load_model.py#numpy',
        'examples/python/load_model.py#torch',
      ]),
    );
  });

  for (const r of found) {
    const name = `${r.file}${r.region ? `#${r.region}` : ''}`;
    it(`README line ${r.line}: ${name} is a verbatim copy`, () => {
      expect(r.code, `README.md line ${r.line}: copy ${name} again`).toBe(source(r.file, r.region));
    });

    it(`README line ${r.line}: ${name} is run by a test`, () => {
      // a test named after the file (`runs examples/node/mnist.mjs …`) or its page (`examples/recipes: …`)
      const page = `${r.file.slice(0, r.file.lastIndexOf('/'))}:`;
      const runners = testFiles(join(ROOT, 'test'))
        .filter((f) => !f.endsWith('readme.test.ts'))
        .filter((f) => /\bit\(\s*'[^']*/.test(readFileSync(f, 'utf8')))
        .filter((f) => {
          const names = [...readFileSync(f, 'utf8').matchAll(/\bit\(\s*'([^']*)'/g)].map((m) => m[1]);
          return names.some((n) => n.includes(r.file) || n.startsWith(page));
        })
        .map((f) => relative(ROOT, f));
      expect(runners, `no test mentions ${r.file}`).not.toEqual([]);
    });
  }
});
