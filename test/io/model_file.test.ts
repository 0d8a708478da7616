import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../../src/io/model_file.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { initParams } from '../../src/model/init.js';
import type { MlpSpec } from '../../src/model/spec.js';

const spec: MlpSpec = { layers: [5, 3, 2], activations: ['tanh'], head: 'softmax' };

describe('model files (safetensors + architecture)', () => {
  it('round-trips parameters and architecture exactly, weights stored as torch.nn.Linear [out, in]', () => {
    const flat = initParams(spec, 3);
    const bytes = encodeModel(spec, flat, { note: 'hello' });
    const back = decodeModel(bytes);
    expect(back.spec).toEqual(spec);
    expect(back.params).toEqual(flat);
    expect(back.metadata.note).toBe('hello');
    const raw = decodeSafetensors(bytes);
    expect(raw.tensors.get('layers.0.weight')?.shape).toEqual([3, 5]);
    // W[i=1, o=2] of our [fanIn, fanOut] layout is torch's weight[o=2][i=1].
    expect(raw.tensors.get('layers.0.weight')?.data[2 * 5 + 1]).toBe(flat[1 * 3 + 2]);
    expect(raw.tensors.get('layers.1.bias')?.shape).toEqual([2]);
  });

  it('says what is wrong with a file that is not a webgpu-mlp model', () => {
    const foreign = encodeSafetensors([{ name: 'w', shape: [1], data: new Float32Array(1) }]);
    expect(() => decodeModel(foreign, 'x.safetensors')).toThrow(
      /x\.safetensors: metadata format is undefined, expected "webgpu-mlp\/1"/,
    );
  });

  it('rejects shapes that do not match the architecture, and missing or extra tensors', () => {
    const flat = initParams(spec, 3);
    const good = decodeSafetensors(encodeModel(spec, flat));
    const rebuild = (
      edit: (t: { name: string; shape: number[]; data: Float32Array }[]) => void,
      meta = good.metadata,
    ) => {
      const tensors = [...good.tensors].map(([name, t]) => ({ name, shape: [...t.shape], data: t.data.slice() }));
      edit(tensors);
      return encodeSafetensors(tensors, meta);
    };
    const transposed = rebuild((t) => {
      t[0].shape = [5, 3];
    });
    expect(() => decodeModel(transposed)).toThrow(/layers\.0\.weight has shape \[5, 3\], expected \[3, 5\]/);
    const missing = rebuild((t) => {
      t.splice(1, 1);
    });
    expect(() => decodeModel(missing)).toThrow(/tensor layers\.0\.bias is missing/);
    const extra = rebuild((t) => {
      t.push({ name: 'layers.9.weight', shape: [1], data: new Float32Array(1) });
    });
    expect(() => decodeModel(extra)).toThrow(/unexpected tensor layers\.9\.weight/);
    const badSpec = rebuild(() => {}, { ...good.metadata, spec: '{"layers": [5, 0, 2]}' });
    expect(() => decodeModel(badSpec)).toThrow(/spec\.layers\[1\] = 0 is invalid/);
    const notJson = rebuild(() => {}, { ...good.metadata, spec: '{layers' });
    expect(() => decodeModel(notJson)).toThrow(/metadata "spec" is not valid JSON/);
    const nan = rebuild((t) => {
      t[0].data[0] = Number.NaN;
    });
    expect(() => decodeModel(nan)).toThrow(/not finite/);
  });

  it('passes truncated and corrupted files on as clear errors', () => {
    const bytes = encodeModel(spec, initParams(spec, 1));
    expect(() => decodeModel(bytes.subarray(0, bytes.length - 3), 'm.safetensors')).toThrow(/^m\.safetensors: /);
    const badHeader = bytes.slice();
    badHeader[0] = 0xff;
    badHeader[1] = 0xff;
    badHeader[2] = 0xff;
    expect(() => decodeModel(badHeader, 'm.safetensors')).toThrow(/^m\.safetensors: /);
  });
});
