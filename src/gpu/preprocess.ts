/**
 * Runs a `.wgsl` file through wgsl-preprocessor.
 *
 * The shader files are plain WGSL plus `#if ${flag}` / `#elif ${flag}` / `#else` / `#endif` lines,
 * used only where the code's structure differs (a fused epilogue with an extra binding). Sizes and
 * switches that don't change the structure are WGSL `override` constants instead.
 * `${name}` placeholders are looked up in `flags`; an unknown name is an error, so a typo cannot
 * silently select a branch.
 */
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';

export type ShaderFlags = Readonly<Record<string, boolean>>;

export function preprocessWgsl(source: string, flags: ShaderFlags, shaderName: string): string {
  const strings: string[] = [];
  const values: boolean[] = [];
  const placeholder = /\$\{(\w+)\}/g;
  let last = 0;
  for (const match of source.matchAll(placeholder)) {
    const name = match[1] as string;
    if (!(name in flags)) {
      throw new Error(
        `${shaderName}: shader flag \${${name}} has no value (given: ${Object.keys(flags).join(', ') || 'none'})`,
      );
    }
    strings.push(source.slice(last, match.index));
    values.push(flags[name] as boolean);
    last = (match.index ?? 0) + match[0].length;
  }
  strings.push(source.slice(last));
  const raw = Object.assign([...strings], { raw: strings }) as unknown as TemplateStringsArray;
  return wgsl(raw, ...values);
}
