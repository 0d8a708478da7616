/**
 * The ONNX export's graph, read back with test/helpers/onnx.ts: opset, symbolic batch, metadata_props,
 * GELU's nodes, the layer kinds' nodes and tensors, the input scaling; and files that cannot be
 * exported are errors that say why. That onnxruntime computes what mlp.predict does is
 * test/interop/onnxruntime.test.ts (Node) and test/e2e/onnx_web.test.ts (the browser, WebGPU).
 */
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, layerTensors, runningTensors } from '../../src/io/model_file.js';
import { ONNX_IR_VERSION, ONNX_OPSET } from '../../src/io/onnx_export.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { createMLP, loadMLP, toOnnx } from '../../src/mlp.js';
import { paramLayout } from '../../src/model/layout.js';
import { resolveSpec } from '../../src/model/spec.js';
import { encodePreprocessing, inputAffine, type Preprocessing } from '../../src/table/preprocessing.js';
import { VERSION } from '../../src/version.js';
import { readOnnx } from '../helpers/onnx.js';
import { randomArray } from '../helpers/random.js';

describe('the exported graph', () => {
  it('opset 17, IR 8, a symbolic batch, names and version in metadata_props, GELU as its nodes', async () => {
    const mlp = await createMLP({ layers: [3, 5, 2], activation: 'gelu', head: 'sigmoid', seed: 3 });
    try {
      await mlp.fit(Uint8Array.of(0, 128, 255, 7, 9, 200), Float32Array.of(1, 0, 0, 1), { epochs: 1 });
      const saved = await mlp.save({ note: 'kept' });
      const onnx = await toOnnx(saved, {
        featureNames: ['red', 'green', 'blue'],
        classNames: ['warm', 'cool'],
        metadata: { dataset: 'colours' },
      });
      // the network exports as its file does, by the function or the method
      expect(await toOnnx(mlp)).toEqual(await toOnnx(await mlp.save()));
      expect(await mlp.toOnnx()).toEqual(await toOnnx(mlp));
      const model = readOnnx(onnx);
      expect(model.irVersion).toBe(ONNX_IR_VERSION);
      expect(model.opsets).toEqual([{ domain: '', version: ONNX_OPSET }]);
      expect(model.producerName).toBe('webgpu-mlp');
      expect(model.producerVersion).toBe(VERSION);
      expect(model.graph.inputs).toEqual([
        expect.objectContaining({ name: 'inputs', elemType: 1, shape: ['batch', 3] }),
      ]);
      expect(model.graph.inputs[0].doc).toContain('columns red, green, blue');
      expect(model.graph.inputs[0].doc).toContain('inputScale');
      expect(model.graph.outputs).toEqual([
        expect.objectContaining({ name: 'probabilities', elemType: 1, shape: ['batch', 2] }),
      ]);
      expect(model.graph.outputs[0].doc).toContain('columns warm, cool');
      expect(model.metadata).toEqual({
        note: 'kept',
        inputScale: String(1 / 255),
        spec: JSON.stringify({ layers: [3, 5, 2], activations: ['gelu'], head: 'sigmoid' }),
        dataset: 'colours',
        webgpuMlpVersion: VERSION,
        featureNames: '["red","green","blue"]',
        classNames: '["warm","cool"]',
      });
      expect(model.graph.nodes.map((n) => n.op)).toEqual([
        'Div', // inputs / 255, as predict scales bytes
        'Gemm',
        ...['Mul', 'Mul', 'Mul', 'Add', 'Mul', 'Tanh', 'Add', 'Mul', 'Mul'], // ½·x·(1 + tanh(K·(x + C·x·x·x)))
        'Gemm',
        'Sigmoid',
      ]);
      const constants = Object.fromEntries(
        model.graph.initializers.filter((t) => t.dims.length === 0).map((t) => [t.name, t.data[0]]),
      );
      expect(constants).toEqual({
        input_divisor: 255,
        'gelu.c': Math.fround(0.044715),
        'gelu.k': Math.fround(Math.sqrt(2 / Math.PI)),
        one: 1,
        half: 0.5,
      });
      const weight = model.graph.initializers.find((t) => t.name === 'layers.0.weight');
      expect(weight?.dims).toEqual([5, 3]); // [out, in], as the model file and torch.nn.Linear
      expect(model.graph.nodes[1]).toMatchObject({ op: 'Gemm', attributes: { transB: 1 } });
    } finally {
      await mlp.destroy();
    }
  });

  it('a loaded network exports as the file it came from', async () => {
    const mlp = await createMLP({ layers: [4, 6, 3], activation: { name: 'leakyRelu', slope: 0.3 }, seed: 9 });
    try {
      const bytes = await mlp.save();
      const loaded = await loadMLP(bytes);
      try {
        expect(await toOnnx(loaded)).toEqual(await toOnnx(bytes));
        const leaky = readOnnx(await toOnnx(bytes)).graph.nodes.find((n) => n.op === 'LeakyRelu');
        expect(leaky?.attributes).toEqual({ alpha: Math.fround(0.3) });
      } finally {
        await loaded.destroy();
      }
    } finally {
      await mlp.destroy();
    }
  });
});

describe('the layer kinds: LayerNorm, BatchNorm1d in evaluation form, dropout as nothing', () => {
  it("each in the walker's order, between the linear map and the activation, with the file's tensors", async () => {
    const mlp = await createMLP({
      layers: [
        6,
        { units: 5, norm: { name: 'batch', eps: 1e-3, momentum: 0.3 }, dropout: 0.2 },
        { units: 4, norm: 'layer', activation: 'tanh', dropout: 0.1 },
        3,
      ],
      seed: 4,
    });
    try {
      // trained a few steps, so that the running statistics are the batches', not their 0 and 1
      await mlp.fit(
        randomArray(64 * 6, 5, 2),
        Uint32Array.from({ length: 64 }, (_, i) => i % 3),
        {
          epochs: 2,
          batchSize: 16,
        },
      );
      const bytes = await mlp.save();
      const model = readOnnx(await toOnnx(bytes));
      expect(model.graph.nodes.map((n) => `${n.op}:${n.outputs[0]}`)).toEqual([
        'Gemm:layers.0.z',
        'BatchNormalization:layers.0.norm',
        'Relu:layers.0.relu', // dropout: no node (the identity in evaluation)
        'Gemm:layers.1.z',
        'LayerNormalization:layers.1.norm',
        'Tanh:layers.1.tanh',
        'Gemm:layers.2.z',
        'Softmax:probabilities',
      ]);
      const [bn, ln] = [model.graph.nodes[1], model.graph.nodes[4]];
      expect(bn.inputs).toEqual([
        'layers.0.z',
        'layers.0.norm.weight',
        'layers.0.norm.bias',
        'layers.0.norm.running_mean',
        'layers.0.norm.running_var',
      ]);
      expect(bn.attributes).toEqual({ epsilon: Math.fround(1e-3) }); // training_mode: 0, its default
      expect(model.graph.nodes[3].inputs[0]).toBe('layers.0.relu'); // the dropout's output is its input
      expect(ln.inputs).toEqual(['layers.1.z', 'layers.1.norm.weight', 'layers.1.norm.bias']);
      expect(ln.attributes).toEqual({ axis: -1, epsilon: Math.fround(1e-5) });
      const file = decodeModel(bytes);
      const saved = new Map(
        [...layerTensors(file.layout, file.params), ...runningTensors(file.layout, file.running)].map((t) => [
          t.name,
          t.data,
        ]),
      );
      expect(model.graph.initializers.map((t) => t.name).sort()).toEqual([...saved.keys()].sort());
      for (const t of model.graph.initializers) expect(t.data, t.name).toEqual(saved.get(t.name));
      const init = (name: string) => model.graph.initializers.find((t) => t.name === name)?.data ?? [];
      expect(init('layers.0.norm.running_mean').some((v) => v !== 0)).toBe(true);
      expect(init('layers.0.norm.running_var').some((v) => v !== 1)).toBe(true);
      expect(model.metadata.spec).toBe(file.metadata.spec); // norms and dropouts with it
      expect(model.doc).toContain('BatchNorm1d');
    } finally {
      await mlp.destroy();
    }
  });

  it('a network with dropout exports as the same network without it (what predict runs)', async () => {
    const plain = resolveSpec({ layers: [4, 6, 5, 2] });
    const params = randomArray(paramLayout(plain).totalFloats, 6);
    const dropped = resolveSpec({ layers: [4, { units: 6, dropout: 0.5 }, { units: 5, dropout: 0.1 }, 2] });
    expect(paramLayout(dropped).totalFloats).toBe(params.length);
    const [a, b] = [
      readOnnx(await toOnnx(encodeModel(plain, params))),
      readOnnx(await toOnnx(encodeModel(dropped, params))),
    ];
    expect(b.graph.nodes).toEqual(a.graph.nodes);
    expect(b.graph.initializers).toEqual(a.graph.initializers);
  });
});

describe("a table network's preprocessing", () => {
  const pre: Preprocessing = {
    inputs: [
      { name: 'size', type: 'numeric', scaling: 'standardize', mean: 10, std: 4 },
      { name: 'colour', type: 'categorical', categories: ['red', 'blue'] },
      { name: 'age', type: 'numeric', scaling: 'minmax', min: 1, max: 9, impute: 5 },
    ],
    target: { type: 'regression', columns: ['price', 'weight'], mean: [100, 3], std: [20, 0.5] },
  };
  const spec = resolveSpec({ layers: [4, 5, 2], activation: 'tanh', head: 'mse' });
  const file = encodeModel(spec, randomArray(paramLayout(spec).totalFloats, 8), {}, encodePreprocessing(pre));

  it("scales the inputs and unscales a regression's outputs in the graph, as predict does; names from the file", async () => {
    const model = readOnnx(await toOnnx(file));
    expect(model.graph.nodes.map((n) => `${n.op}:${n.outputs[0]}`)).toEqual([
      'Mul:preprocessed_inputs.scaled',
      'Add:preprocessed_inputs',
      'Gemm:layers.0.z',
      'Tanh:layers.0.tanh',
      'Gemm:layers.1.z',
      'Mul:unscaled_outputs.scaled',
      'Add:values',
    ]);
    const t = (name: string) => model.graph.initializers.find((i) => i.name === name)?.data;
    const affine = inputAffine(pre);
    expect(t('preprocessing.scale')).toEqual(affine?.scale); // 1/std, 1, 1, 1/(max − min) in float32
    expect(t('preprocessing.shift')).toEqual(affine?.shift);
    expect(t('preprocessing.scale')).toEqual(Float32Array.of(0.25, 1, 1, 0.125));
    expect(t('target.std')).toEqual(Float32Array.of(20, 0.5));
    expect(t('target.mean')).toEqual(Float32Array.of(100, 3));
    expect(model.metadata.preprocessing).toBe(encodePreprocessing(pre));
    expect(model.metadata.featureNames).toBe('["size","colour=red","colour=blue","age"]');
    expect(model.metadata.classNames).toBe('["price","weight"]');
    expect(model.graph.inputs[0].doc).toContain('categorical ones one-hot');
    const named = readOnnx(await toOnnx(file, { classNames: ['p', 'w'] }));
    expect(named.metadata.classNames).toBe('["p","w"]'); // the options name them otherwise
  });

  it('a classifier: the inputs scaled, its probabilities as they are', async () => {
    const classes: Preprocessing = {
      ...pre,
      target: { type: 'classification', columns: ['kind'], classes: ['a', 'b', 'c'] },
    };
    const s = resolveSpec({ layers: [4, 3] });
    const onnx = await toOnnx(
      encodeModel(s, randomArray(paramLayout(s).totalFloats, 9), {}, encodePreprocessing(classes)),
    );
    const model = readOnnx(onnx);
    expect(model.graph.nodes.map((n) => n.op)).toEqual(['Mul', 'Add', 'Gemm', 'Softmax']);
    expect(model.metadata.classNames).toBe('["a","b","c"]');
  });

  it('a preprocessing that does not fit the network is refused, naming it', async () => {
    const s = resolveSpec({ layers: [3, 5, 2], head: 'mse' });
    const bad = encodeModel(s, randomArray(paramLayout(s).totalFloats, 3), {}, encodePreprocessing(pre));
    await expect(toOnnx(bad)).rejects.toThrow(/^cannot export to ONNX: model file: metadata "preprocessing"/);
  });
});

/** A model file made by hand: the tensors of `layers` and the given metadata, as it stands. */
function handMade(layers: number[], metadata: Record<string, string>): Uint8Array {
  const spec = resolveSpec({ layers });
  const layout = paramLayout(spec);
  return encodeSafetensors(layerTensors(layout, randomArray(layout.totalFloats, 1)), metadata);
}

describe('what cannot be exported is an error naming it', () => {
  const spec = (s: object) => JSON.stringify(s);
  const good = (() => {
    const s = resolveSpec({ layers: [4, 5, 2] });
    return encodeModel(s, randomArray(paramLayout(s).totalFloats, 2));
  })();

  it('an unknown activation in the metadata (a file from a newer version)', async () => {
    const bytes = handMade([4, 5, 2], {
      format: 'webgpu-mlp/1',
      spec: spec({ layers: [4, 5, 2], activations: ['swish'], head: 'softmax' }),
    });
    await expect(toOnnx(bytes)).rejects.toThrow(
      'cannot export to ONNX: model file: metadata spec.activation[0] = "swish" is invalid: expected one of relu, sigmoid, tanh, linear, leakyRelu, gelu',
    );
  });

  it('a layer kind it does not know, or a spec key it does not know', async () => {
    // a hidden layer of a kind no version has (attention): refused by the spec check, naming the layer
    const future = handMade([4, 5, 2], {
      format: 'webgpu-mlp/1',
      spec: spec({ layers: [4, { units: 5, attention: 'self' }, 2], activations: ['relu'], head: 'softmax' }),
    });
    await expect(toOnnx(future)).rejects.toThrow(
      /^cannot export to ONNX: model file: metadata spec\.layers\[1\]\S* = .*attention/,
    );
    const extraKey = handMade([4, 5, 2], {
      format: 'webgpu-mlp/1',
      spec: spec({ layers: [4, 5, 2], activations: ['relu'], head: 'softmax', attention: ['self'] }),
    });
    const error = await toOnnx(extraKey).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(error).toMatch(
      /^cannot export to ONNX: model file: its spec has "attention" \(.*self.*\), which webgpu-mlp /,
    );
    expect(error).toContain(
      `which webgpu-mlp ${VERSION} does not know (a file from a newer version?): it knows layers, activations, head, norms, dropouts`,
    );
  });

  it('a corrupt file: truncated, not safetensors, another format, a non-finite weight, a bad inputScale', async () => {
    await expect(toOnnx(good.subarray(0, good.length - 7))).rejects.toThrow(/^cannot export to ONNX: model file: /);
    await expect(toOnnx(new TextEncoder().encode('{"not": "a model"}'))).rejects.toThrow(
      /^cannot export to ONNX: model file: /,
    );
    const checkpoint = handMade([4, 5, 2], { format: 'webgpu-mlp-checkpoint/1', spec: spec({ layers: [4, 5, 2] }) });
    await expect(toOnnx(checkpoint)).rejects.toThrow(
      'cannot export to ONNX: model file: metadata format is "webgpu-mlp-checkpoint/1", expected "webgpu-mlp/1"',
    );
    const s = resolveSpec({ layers: [4, 5, 2] });
    const params = randomArray(paramLayout(s).totalFloats, 3);
    params[7] = Number.NaN;
    await expect(toOnnx(encodeModel(s, params))).rejects.toThrow('not finite');
    for (const scale of ['0', '-1', 'abc', '']) {
      await expect(toOnnx(encodeModel(s, randomArray(params.length, 4), { inputScale: scale }))).rejects.toThrow(
        `cannot export to ONNX: model file: metadata inputScale is ${JSON.stringify(scale)}, expected a number > 0 (1/255 for bytes)`,
      );
    }
  });

  it('bad arguments and options, before any work', async () => {
    await expect(toOnnx('model.safetensors' as never)).rejects.toThrow(
      'cannot export to ONNX: model file: the bytes given are "model.safetensors" (string): expected the file\'s bytes',
    );
    // a file's bytes in any form loadMLP takes: an ArrayBuffer as fetch gives it
    expect(await toOnnx(good.slice().buffer)).toEqual(await toOnnx(good));
    await expect(toOnnx(good, { featureNames: ['a', 'b'] })).rejects.toThrow(
      'options.featureNames = ["a", "b"] is invalid: expected an array of one name per input (4)',
    );
    await expect(toOnnx(good, { classNames: ['x', 'x'] })).rejects.toThrow(
      'options.classNames[1] = "x" is invalid: expected a name not given before (it is also options.classNames[0])',
    );
    await expect(toOnnx(good, { classNames: ['x', ''] })).rejects.toThrow('options.classNames[1] = "" is invalid');
    await expect(toOnnx(good, { metadata: { spec: 'mine' } })).rejects.toThrow(
      'options.metadata["spec"] = "mine" is invalid: expected another key: webgpuMlpVersion, spec, featureNames, classNames are the export\'s own',
    );
    await expect(toOnnx(good, { metadata: { n: 1 as never } })).rejects.toThrow(
      'options.metadata["n"] = 1 is invalid: expected a string',
    );
    await expect(toOnnx(good, { names: [] } as never)).rejects.toThrow('options.names');
  });
});
