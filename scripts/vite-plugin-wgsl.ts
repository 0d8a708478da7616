/**
 * A Vite plugin for the `?raw` imports of shaders/*.wgsl: the WGSL ships without comments or
 * indentation, line for line, so the line numbers that WGSL errors report stay those of the file.
 * Used by every build (library, demo, Node CLI) and by the tests, which so test what ships.
 */
import { readFileSync } from 'node:fs';
import type { Plugin } from 'vite';

/** The source with `//` comments and surrounding whitespace removed from every line; the line count is kept. */
export function compactWgsl(source: string): string {
  return source
    .split('\n')
    .map((line) => {
      const comment = line.indexOf('//'); // WGSL has no string literals: `//` always starts a comment
      return (comment >= 0 ? line.slice(0, comment) : line).trim();
    })
    .join('\n');
}

export function wgsl(): Plugin {
  return {
    name: 'webgpu-mlp:wgsl',
    enforce: 'pre',
    load(id) {
      if (!id.endsWith('.wgsl?raw')) return null;
      const file = id.slice(0, -'?raw'.length);
      this.addWatchFile(file);
      return `export default ${JSON.stringify(compactWgsl(readFileSync(file, 'utf8')))};`;
    },
  };
}
