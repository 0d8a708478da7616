/**
 * The layout tells the architecture: no import circles between modules (type imports included: a
 * circle of types is still two concepts that cannot be read apart), and no two sibling folders of
 * src/ that import each other (kernels, model, train, io, infer, gpu, optim… each depends one way).
 * A folder and its own subfolder (model and model/heads) may; root modules (mlp.ts, params.ts,
 * inputs.ts, the entries) are shared foundations and front doors, not folders.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const IMPORT = /^(?:import|export)\s+(?:type\s+)?[^;]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/gm;

/** Each module of src/ and the modules of src/ it imports. */
function importGraph(): Map<string, string[]> {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.d.ts'),
  );
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const code = readFileSync(join(SRC, file), 'utf8');
    const deps = [...code.matchAll(IMPORT)].map((m) =>
      relative(SRC, resolve(dirname(join(SRC, file)), (m[1] ?? m[2]) as string)).replace(/\.js$/, '.ts'),
    );
    graph.set(
      file,
      deps.filter((d) => files.includes(d)),
    );
  }
  return graph;
}

describe('src/ imports', () => {
  const graph = importGraph();

  it('reads the modules', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('mlp.ts')).toContain('train/model.ts');
  });

  it('form no circle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (node: string, stack: string[]) => {
      state.set(node, 'open');
      stack.push(node);
      for (const dep of graph.get(node) ?? []) {
        if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].join(' → '));
        else if (!state.has(dep)) visit(dep, stack);
      }
      stack.pop();
      state.set(node, 'done');
    };
    for (const node of graph.keys()) if (!state.has(node)) visit(node, []);
    expect(cycles).toEqual([]);
  });

  it('go one way between sibling folders', () => {
    const edges = new Set<string>();
    for (const [file, deps] of graph) {
      for (const dep of deps) {
        const [a, b] = [dirname(file), dirname(dep)];
        if (a !== b && a !== '.' && b !== '.') edges.add(`${a} → ${b}`);
      }
    }
    const nested = (a: string, b: string) => a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
    const both = [...edges].filter((e) => {
      const [a, b] = e.split(' → ') as [string, string];
      return a < b && edges.has(`${b} → ${a}`) && !nested(a, b);
    });
    expect(both).toEqual([]);
  });

  it('keep Node out of the browser entries: index.ts and infer.ts reach no node: import and not src/node/', () => {
    // webgpu-mlp/node (src/node.ts) is the only entry that may: a bundler building a page from the
    // other two must meet no `node:` module, not even in a chunk loaded on demand.
    for (const entry of ['index.ts', 'infer.ts']) {
      const reached = new Set<string>();
      const visit = (file: string) => {
        if (reached.has(file)) return;
        reached.add(file);
        for (const dep of graph.get(file) ?? []) visit(dep);
      };
      visit(entry);
      const nodeOnly = [...reached].filter(
        (f) =>
          f.startsWith('node/') || f.startsWith('cli/') || /from\s+'node:/.test(readFileSync(join(SRC, f), 'utf8')),
      );
      expect(nodeOnly, entry).toEqual([]);
      expect(reached.size, entry).toBeGreaterThan(20);
    }
    expect(new Set(graph.get('node.ts'))).toEqual(new Set(['node/webgpu-runtime.ts']));
  });
});
