/**
 * The public types catch misuse with messages that say what is wrong.
 *
 * test/types/misuse.ts holds misuses, each under `// @ts-expect-error <part of the expected message>`.
 * Here it is compiled twice with the repository's compiler options:
 * - as it is: no error at all, so every marker is used, i.e. every misuse is a type error;
 * - with the markers blanked out: exactly one error per marked line, whose message (with its notes,
 *   e.g. "The expected type comes from property 'layers'") contains the fragments written after the
 *   marker (separated by ` … `), in order.
 * The example pages (examples/tsconfig.json: webgpu-mlp resolved to src/) must type-check cleanly.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MISUSE = join(ROOT, 'test/types/misuse.ts');
const MARKER = /^\s*\/\/ @ts-expect-error (.+)$/;

function loadConfig(path: string): ts.ParsedCommandLine {
  const { config, error } = ts.readConfigFile(path, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(config, ts.sys, dirname(path));
}

/**
 * Diagnostics of `MISUSE` with its text replaced by `text`: line (1-based) and message, the message
 * followed by its notes and by the code it points at, e.g. "… (at `epochs`)".
 */
function diagnose(text: string): { line: number; message: string }[] {
  const { options } = loadConfig(join(ROOT, 'tsconfig.json'));
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError, create) =>
    file === MISUSE ? ts.createSourceFile(file, text, language, true) : getSourceFile(file, language, onError, create);
  const program = ts.createProgram({
    rootNames: [MISUSE, join(ROOT, 'src/gpu/wgsl-preprocessor.d.ts')],
    options: { ...options, noEmit: true },
    host,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${d.file.fileName}:` : '';
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    const related = (d.relatedInformation ?? []).map((r) => ts.flattenDiagnosticMessageText(r.messageText, ' '));
    const span = d.file && d.start !== undefined ? d.file.text.slice(d.start, d.start + (d.length ?? 0)) : '';
    const message = [ts.flattenDiagnosticMessageText(d.messageText, ' '), ...related, `(at \`${span}\`)`].join(' ');
    return { line: d.file?.fileName === MISUSE ? line : -1, message: `${where}${line}: ${message}` };
  });
}

describe('type errors for misuse of the API (test/types/misuse.ts)', () => {
  const source = ts.sys.readFile(MISUSE) ?? '';
  const lines = source.split('\n');
  /** 1-based line of each misuse (the line after its marker) → the text its error must contain. */
  const expected = new Map<number, string>();
  lines.forEach((l, i) => {
    const m = MARKER.exec(l);
    if (m) expected.set(i + 2, m[1].trim());
  });

  it('has misuses to check', () => {
    expect(expected.size).toBeGreaterThanOrEqual(10);
  });

  it('compiles as written: every @ts-expect-error marks a real type error', () => {
    expect(diagnose(source).map((d) => d.message)).toEqual([]);
  });

  it('without the markers, fails on exactly the marked lines, each message saying what is wrong', () => {
    const stripped = lines.map((l) => (MARKER.test(l) ? '' : l)).join('\n');
    const diagnostics = diagnose(stripped);
    expect(
      diagnostics.filter((d) => !expected.has(d.line)).map((d) => d.message),
      'errors on unmarked lines',
    ).toEqual([]);
    for (const [line, text] of expected) {
      const here = diagnostics.filter((d) => d.line === line);
      expect(here.length, `errors on line ${line}: ${lines[line - 1].trim()}`).toBe(1);
      const fragments = text.split(' … ').map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      expect(here[0].message, `line ${line}: ${lines[line - 1].trim()}`).toMatch(new RegExp(fragments.join('.*')));
    }
  });
});

describe('examples/', () => {
  it('type-check against src/ (examples/tsconfig.json)', () => {
    const parsed = loadConfig(join(ROOT, 'examples/tsconfig.json'));
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: { ...parsed.options, noEmit: true } });
    const messages = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    expect(parsed.fileNames.some((f) => f.endsWith('examples/recipes/worker.ts'))).toBe(true);
    expect(messages).toEqual([]);
  });
});
