/**
 * A Vite plugin for the `?raw` imports of shaders/*.wgsl: the WGSL ships without comments or the
 * whitespace no token needs, line for line, so the line numbers that WGSL errors report stay those of the file.
 * A line `#include "file.wgsl"` (relative to the including file) becomes an empty line, and the
 * included file, shipped the same way, is appended after the last line (WGSL lets functions and
 * variables be used before they are declared), each file once. Used by every build (library,
 * demo, Node CLI) and by the tests, which so test what ships.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Plugin } from 'vite';

/**
 * Whitespace no token needs: between a word (identifier, number, keyword) and punctuation, or
 * between two punctuation marks that cannot join into another token (`a - -b` keeps its space;
 * `<` `=`, `-` `>`, `&` `&`… would join, so any two operator characters keep theirs).
 */
const SPACE = /(?<=[^\w.\s])\s+|\s+(?=[^\w.\s])/g;
const JOINS = /[-+*/%<>=!&|^~]/;

/** One line with its comment dropped and its spaces squeezed out; preprocessor lines (`#…`) only trimmed. */
function compactLine(line: string): string {
  const comment = line.indexOf('//'); // WGSL has no string literals: `//` always starts a comment
  const code = (comment >= 0 ? line.slice(0, comment) : line).trim();
  if (code.startsWith('#')) return code;
  return code.replace(SPACE, (space, offset: number, all: string) => {
    const before = all[offset - 1] ?? '';
    const after = all[offset + space.length] ?? '';
    return JOINS.test(before) && JOINS.test(after) ? ' ' : '';
  });
}

/** The source with `//` comments and the whitespace no token needs removed; the line count is kept. */
export function compactWgsl(source: string): string {
  return source.split('\n').map(compactLine).join('\n');
}

const INCLUDE = /^#include\s+"([^"]+)"$/;

/**
 * The shipped text of a shader file: compacted, `#include` lines emptied and the included files
 * appended (recursively, each once). `files` are the paths read, for the watcher.
 */
export function shipWgsl(file: string, files: string[] = []): string {
  const seen = new Set<string>();
  const appended: string[] = [];
  const visit = (path: string): string => {
    seen.add(path);
    files.push(path);
    const lines = compactWgsl(readFileSync(path, 'utf8')).split('\n');
    return lines
      .map((line) => {
        const m = INCLUDE.exec(line);
        if (!m) return line;
        const target = resolve(dirname(path), m[1] as string);
        if (!seen.has(target)) appended.push(visit(target));
        return '';
      })
      .join('\n');
  };
  const main = visit(resolve(file));
  return [main, ...appended].join('\n');
}

export function wgsl(): Plugin {
  return {
    name: 'webgpu-mlp:wgsl',
    enforce: 'pre',
    load(id) {
      // `file.wgsl?raw`, or in the dev server `file.wgsl?import&raw` and the like.
      const [file, query = ''] = id.split('?');
      if (!file?.endsWith('.wgsl') || !query.split('&').includes('raw')) return null;
      const files: string[] = [];
      const code = shipWgsl(file, files);
      for (const f of files) this.addWatchFile(f);
      // A template literal, line for line, so that a bundle that is not minified (the published dist/)
      // keeps the shader readable rather than one line of thousands of characters.
      return `export default \`${code.replace(/[\\`$]/g, '\\$&')}\`;`;
    },
  };
}
