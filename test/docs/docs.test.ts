/**
 * docs/*.md against the repository, so that what they say stays true as the code moves: every file
 * path they name exists, every test they cite by name is a test of the file they name, and the
 * import table of docs/architecture.md allows every relative import in src/. A citation is a quoted
 * string after a test file's path in the same paragraph, list item or table row —
 * `test/a.test.ts "name one", "name two"` — and names a test of the last such path (quotes inside
 * `code` do not count). Plain file reads: no GPU, no build.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const posix = (path: string) => path.split(sep).join('/');

function exists(path: string): boolean {
  try {
    statSync(join(ROOT, path));
    return true;
  } catch {
    return false;
  }
}

/** Files under a directory of the repository, as repository paths. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(`${dir}/${e.name}`) : [`${dir}/${e.name}`],
  );
}

/** A path with `*` in its last part (`test/kernels/*.test.ts`) names at least one file. */
function globMatches(path: string): boolean {
  const dir = path.slice(0, path.lastIndexOf('/'));
  const name = new RegExp(
    `^${path
      .slice(dir.length + 1)
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );
  return exists(dir) && readdirSync(join(ROOT, dir)).some((f) => name.test(f));
}

/** The repository paths a document names: link targets, and paths written out (`src/mlp.ts`). */
function namedPaths(doc: string): string[] {
  const text = read(doc);
  const paths: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = (m[1] as string).split('#')[0] as string;
    if (target === '' || /^[a-z]+:/.test(target)) continue;
    paths.push(posix(normalize(join(dirname(doc), target))));
  }
  const written = /(?<![\w./-])((?:src|test|shaders|scripts|bench|demo|examples|docs)\/[\w./*-]*[\w*/])/g;
  for (const m of text.matchAll(written)) paths.push(m[1] as string);
  return [...new Set(paths)];
}

/** A test name as a pattern: `${…}` in a template literal and `%s` of describe.each match anything. */
function namePattern(literal: string): RegExp {
  const parts = literal.split(/\$\{[^}]*\}|%s/);
  return new RegExp(`^${parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?')}$`);
}

const STRING = String.raw`'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|\x60((?:[^\x60\\]|\\.)*)\x60`;

/** The names of a test file's tests and groups, and of its table-driven cases (`name: '…'`). */
function testNames(file: string): RegExp[] {
  const source = read(file);
  const calls = new RegExp(String.raw`\b(?:it|test|describe)(?:\.each\([\s\S]*?\))?\(\s*(?:${STRING})`, 'g');
  const cases = new RegExp(String.raw`\bname:\s*(?:${STRING})`, 'g');
  return [...source.matchAll(calls), ...source.matchAll(cases)].map((m) =>
    namePattern((m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1')),
  );
}

/** Paragraphs, list items, table rows and headings: where a citation's path and names must both be. */
function blocks(text: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || /^\s*(?:[-|#]|\d+\.)\s/.test(line)) {
      if (current.length) out.push(current.join('\n'));
      current = [];
    }
    if (line.trim() !== '') current.push(line);
  }
  if (current.length) out.push(current.join('\n'));
  return out;
}

/** Citations: quoted test names after a test file's path, in the same block (see the header). */
function citations(doc: string): { file: string; name: string }[] {
  const token = /("[^"\n]+")|(`[^`\n]+`)|(test\/[\w/.-]+\.test\.ts)/g;
  const out: { file: string; name: string }[] = [];
  for (const block of blocks(read(doc))) {
    let file: string | undefined;
    for (const m of block.matchAll(token)) {
      if (m[3]) file = m[3];
      else if (m[1] && file) out.push({ file, name: m[1].slice(1, -1) });
    }
  }
  return out;
}

/** The layer a source file belongs to in the import table: its folder under src/, or the file itself. */
function layerOf(file: string): string {
  const parts = file.split('/');
  return parts.length === 2 ? file : `${parts[0]}/${parts[1]}/`;
}

/** docs/architecture.md's table: each layer (first cell) and what it may import (last cell). */
function importTable(): Map<string, string[]> {
  const table = new Map<string, string[]>();
  for (const line of read('docs/architecture.md').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const layer = /^`(src\/[^`]*)`$/.exec(cells[1] ?? '')?.[1];
    if (!layer || cells.length < 4) continue;
    const allowed = cells[cells.length - 2] as string;
    table.set(layer, allowed === 'nothing' ? [] : [...allowed.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string));
  }
  return table;
}

/** Every relative import of a source file, as repository paths (`src/gpu/context.js`, `shaders/matmul.wgsl`). */
function importsOf(file: string): string[] {
  const source = read(file);
  const specs = [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)'(\.{1,2}\/[^']*)'/g)].map((m) => m[1] as string);
  return specs.map((s) => posix(normalize(join(dirname(file), s.split('?')[0] as string))));
}

describe('docs/*.md against the repository', () => {
  it('every path they name exists', () => {
    const missing = DOCS.flatMap((doc) =>
      namedPaths(doc)
        .filter((p) => (p.includes('*') ? !globMatches(p) : !exists(p)))
        .map((p) => `${doc}: ${p}`),
    );
    expect(missing).toEqual([]);
  });

  it('every test they cite by name is in the file they name', () => {
    const cited = DOCS.flatMap((doc) => citations(doc).map((c) => ({ doc, ...c })));
    expect(cited.length).toBeGreaterThan(100); // the citations are found at all
    const unknown = cited
      .filter(({ file, name }) => !exists(file) || !testNames(file).some((pattern) => pattern.test(name)))
      .map(({ doc, file, name }) => `${doc}: ${file} "${name}"`);
    expect(unknown).toEqual([]);
  });

  it('the step docs/architecture.md shows is StepPlan.encodeStep of src/train/plan.ts, line for line', () => {
    const doc = read('docs/architecture.md');
    const at = doc.indexOf('One training step, top to bottom');
    const block = doc.slice(at).match(/```ts\n([\s\S]*?)```/)?.[1] ?? '';
    const lines = (text: string) =>
      text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '');
    const shown = lines(block);
    expect(shown[0]).toMatch(/^encodeStep\(/);
    const code = lines(read('src/train/plan.ts'));
    const start = code.indexOf(shown[0] as string);
    expect(start, 'encodeStep in src/train/plan.ts').toBeGreaterThanOrEqual(0);
    expect(code.slice(start, start + shown.length)).toEqual(shown);
  });

  it('the import table of docs/architecture.md allows every import in src/', () => {
    const table = importTable();
    const sources = filesUnder('src').filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    const problems: string[] = [];
    for (const file of sources) {
      const layer = layerOf(file);
      const allowed = table.get(layer);
      if (!allowed) {
        problems.push(`${layer} has no row in the table`);
        continue;
      }
      for (const target of importsOf(file)) {
        const ts = target.replace(/\.js$/, '.ts');
        const ok =
          layerOf(ts) === layer ||
          allowed.some((a) => (a.endsWith('/') ? target.startsWith(a) : ts === a || target === a));
        if (!ok) problems.push(`${relative(ROOT, join(ROOT, file))} imports ${target}, which ${layer} may not`);
      }
    }
    expect([...new Set(problems)]).toEqual([]);
  });
});
