// wgsl-preprocessor ships plain JS with no `exports` map or types.
declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  /** Template tag resolving `#if ${cond}` / `#elif` / `#else` / `#endif` blocks in WGSL source. */
  export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string;
}
