/**
 * `npm run export` (src/cli/export.ts), in process: a model file in, an ONNX file out, written
 * atomically; bad flags, paths and model files are errors before anything is written, and an
 * existing ONNX file survives a failed export. No GPU: the export reads the file only.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXPORT_HELP, exportCommand } from '../../src/cli/export.js';
import { encodeModel, layerTensors } from '../../src/io/model_file.js';
import { exportOnnx } from '../../src/io/onnx_export.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { paramLayout } from '../../src/model/layout.js';
import { resolveSpec } from '../../src/model/spec.js';
import { readOnnx } from '../helpers/onnx.js';
import { randomArray } from '../helpers/random.js';

let dir: string;
let model: string;
let modelBytes: Uint8Array;
let out: string[];
let err: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'webgpu-mlp-export-'));
  const spec = resolveSpec({ layers: [5, 7, 3], activation: 'tanh' });
  modelBytes = encodeModel(spec, randomArray(paramLayout(spec).totalFloats, 5), { inputScale: String(1 / 255) });
  model = join(dir, 'model.safetensors');
  writeFileSync(model, modelBytes);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(() => vi.restoreAllMocks());

function run(...argv: string[]): number {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  vi.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
  const code = exportCommand(argv);
  vi.restoreAllMocks();
  return code;
}

describe('npm run export', () => {
  it('writes the ONNX file of a model file, and says what it wrote', () => {
    const target = join(dir, 'out', 'model.onnx'); // its folder is made
    expect(run(model, '--onnx', target, '--class-names', 'a, b,c')).toBe(0);
    expect(err).toEqual([]);
    const written = new Uint8Array(readFileSync(target));
    expect(written).toEqual(exportOnnx(modelBytes, { classNames: ['a', 'b', 'c'] }, model));
    expect(out[0]).toMatch(new RegExp(`^wrote ${target.replace(/[.]/g, '\\.')}: [\\d,]+ bytes in \\d+ ms$`));
    expect(out[1]).toBe('  [5, 7, 3] tanh, softmax head; inputs [batch, 5] → probabilities [batch, 3]');
    expect(readOnnx(written).metadata.classNames).toBe('["a","b","c"]');
    expect(readdirSync(join(dir, 'out'))).toEqual(['model.onnx']); // no temporary file left
  });

  it('--help, and flags that are wrong or missing (exit 2, nothing written)', () => {
    expect(run('--help')).toBe(0);
    expect(out).toEqual([EXPORT_HELP]);
    expect(run(model)).toBe(2);
    expect(err).toEqual(['export: --onnx PATH is needed: where to write the ONNX file. See --help.']);
    expect(run('--onnx', 'x.onnx')).toBe(2);
    expect(err).toEqual(['export: which model? Give the .safetensors file to export. See --help.']);
    expect(run(model, model, '--onnx', 'x.onnx')).toBe(2);
    expect(err[0]).toMatch(/^export: one model at a time: /);
    expect(run(model, '--onnx', 'x.onnx', '--opset', '13')).toBe(2);
    expect(err).toEqual(['export: unknown option "--opset". See --help.']);
    expect(run(model, '--onnx')).toBe(2);
    expect(err).toEqual(['export: --onnx needs a value. See --help.']);
    expect(run(model, '--onnx', 'x.onnx', '--feature-names', 'a,,b')).toBe(2);
    expect(err).toEqual([
      'export: --feature-names "a,,b" is invalid: expected names separated by commas, none empty. See --help.',
    ]);
    expect(existsSync('x.onnx')).toBe(false);
  });

  it('refuses to replace the model, a directory, or to read what is no model; an old ONNX file survives', () => {
    expect(run(model, '--onnx', model)).toBe(1);
    expect(err[0]).toMatch(/is the model file itself: the export would replace it; give another path$/);
    expect(readFileSync(model)).toEqual(Buffer.from(modelBytes));

    // a device is never replaced (src/cli/files.ts: only a regular file is)
    expect(run(model, '--onnx', '/dev/null')).toBe(1);
    expect(err[0]).toMatch(
      /^export: --onnx \/dev\/null is a character device, not a regular file: it is never replaced/,
    );

    mkdirSync(join(dir, 'folder.onnx'));
    expect(run(model, '--onnx', join(dir, 'folder.onnx'))).toBe(1);
    expect(err[0]).toMatch(/^export: --onnx .*folder\.onnx is a directory: give a file path$/);

    const target = join(dir, 'kept.onnx');
    writeFileSync(target, 'the previous export');
    expect(run(join(dir, 'missing.safetensors'), '--onnx', target)).toBe(1);
    expect(err[0]).toMatch(/^export: cannot read .*missing\.safetensors: ENOENT$/);

    const spec = resolveSpec({ layers: [5, 7, 3] });
    const future = join(dir, 'future.safetensors');
    writeFileSync(
      future,
      encodeSafetensors(layerTensors(paramLayout(spec), randomArray(paramLayout(spec).totalFloats, 1)), {
        format: 'webgpu-mlp/1',
        spec: JSON.stringify({ layers: [5, 7, 3], activations: ['mish'], head: 'softmax' }),
      }),
    );
    expect(run(future, '--onnx', target)).toBe(1);
    expect(err[0]).toMatch(
      /^export: cannot export to ONNX: .*future\.safetensors: metadata spec\.activation\[0\] = "mish" is invalid: expected one of /,
    );
    expect(run(model, '--onnx', target, '--feature-names', 'a,b')).toBe(1);
    expect(err[0]).toBe(
      'export: options.featureNames = ["a", "b"] is invalid: expected an array of one name per input (5)',
    );
    expect(readFileSync(target, 'utf8')).toBe('the previous export');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});
