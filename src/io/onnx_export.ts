/**
 * A saved network as an ONNX graph that computes what `mlp.predict` returns (docs/maths.md §2): the
 * input scaling the file records (`inputScale`), then the walker's layers in their evaluation form
 * (src/model/layers/network.ts) — a dense layer `Z = A·Wᵀ + b` (Gemm, with the file's `[out, in]`
 * weight, `transB = 1`), LayerNorm (LayerNormalization), BatchNorm1d with its running statistics
 * (BatchNormalization), dropout as nothing — each with its activation, then the head's outputs
 * (softmax or sigmoid probabilities, or the regression values themselves).
 *
 * Opset 17 (IR version 8, the pair of ONNX 1.12 in onnx's docs/Versioning.md): every operator used
 * here — Gemm, LayerNormalization, BatchNormalization, Relu, LeakyRelu, Tanh, Sigmoid, Softmax, Mul,
 * Div, Add — is in onnxruntime-web's WebGPU execution provider, and 17 is the first opset with
 * LayerNormalization. ONNX's own Gelu operator is opset 20: GELU is written out as the nodes of our
 * definition instead (below).
 *
 * Each layer kind, activation and head has its ONNX form in the tables below, typed by the
 * registries' names: a layer kind, activation or head added to the library without one does not compile.
 */
import { GELU_C, GELU_K } from '../model/activations/gelu.js';
import { type ActivationName, describeActivation } from '../model/activations/index.js';
import { describeHead, type HeadName } from '../model/heads/outputs.js';
import type { Layer, LayerKindName } from '../model/layers/definition.js';
import { networkLayers, shapeOf } from '../model/layers/network.js';
import { headName, type MlpSpec } from '../model/spec.js';
import { checkOptions, fail, formatValue, type ParamValues } from '../params.js';
import {
  decodePreprocessing,
  inputAffine,
  inputColumns,
  outputAffine,
  outputNames,
  type Preprocessing,
} from '../table/preprocessing.js';
import { featureNames as tableFeatureNames } from '../table/schema.js';
import { VERSION } from '../version.js';
import {
  decodeModel,
  type LoadedModel,
  layerTensors,
  type MODEL_OWN_KEYS,
  metadataObject,
  runningTensors,
} from './model_file.js';
import { encodeOnnx, type OnnxInitializer, type OnnxModel, type OnnxNode } from './onnx.js';
import type { FileBytes } from './safetensors.js';

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
/** The graph's input, and the name of its batch dimension (symbolic: any number of rows). */
export const ONNX_INPUT = 'inputs';
export const ONNX_BATCH = 'batch';

export interface OnnxOptions {
  /** The input columns' names, one per input (`layers[0]` of them): metadata_props `featureNames` and the input's description. */
  featureNames?: readonly string[];
  /**
   * The outputs' names, one per output: the classes of a softmax head, the labels of a sigmoid head,
   * the targets of a regression head. metadata_props `classNames` and the output's description.
   */
  classNames?: readonly string[];
  /** More metadata_props (strings), e.g. `{ dataset: 'mnist' }`; the export's own keys cannot be given. */
  metadata?: Record<string, string>;
}

/** The metadata_props keys the export writes itself (beside the file's own metadata, carried over). */
export const ONNX_OWN_KEYS = ['webgpuMlpVersion', 'spec', 'featureNames', 'classNames'] as const;

/**
 * What the export makes of each key a model file writes itself, typed by MODEL_OWN_KEYS: a key added
 * there (a new part of what a file means) does not compile until the export handles it. `carried`:
 * copied into metadata_props.
 */
const OWN_KEYS: { readonly [K in (typeof MODEL_OWN_KEYS)[number]]: { carried: boolean } } = {
  format: { carried: false }, // the safetensors file's format, not the ONNX file's
  spec: { carried: true }, // the layers and the head: the graph
  preprocessing: { carried: true }, // the input affine and the regression outputs' unscaling: in the graph
};

/**
 * The spec keys the export knows, typed by MlpSpec's (a key added there does not compile until it is
 * here): a file with another (a newer file format) is refused, not half-exported.
 */
const SPEC_KEYS = Object.keys({
  layers: true,
  activations: true,
  head: true,
  norms: true,
  dropouts: true,
} satisfies { readonly [K in keyof Required<MlpSpec>]: true });

/** A graph being built: nodes in order, and the constants they use. */
class Graph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private readonly constants = new Map<string, number>();

  /** One node; its output value is named as the node. Returns the output's name. */
  node(op: string, inputs: readonly string[], output: string, attributes?: OnnxNode['attributes']): string {
    this.nodes.push({ op, name: output, inputs, outputs: [output], attributes });
    return output;
  }

  /** A float32 constant tensor. Returns its name. */
  initializer(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** A float32 scalar constant, made once per name. */
  constant(name: string, value: number): string {
    const known = this.constants.get(name);
    if (known === undefined) {
      this.constants.set(name, value);
      this.initializers.push({ name, dims: [], data: Float32Array.of(value) });
    } else if (!Object.is(known, value)) {
      throw new Error(`ONNX export: constant ${name} is ${known} and ${value}`);
    }
    return name;
  }
}

/** An activation's nodes: from the value `x`, outputs named from `out`; returns the activation's value. */
type OnnxActivation = (g: Graph, x: string, out: string, params: ParamValues) => string;

const ONNX_ACTIVATIONS: { readonly [K in ActivationName]: OnnxActivation } = {
  relu: (g, x, out) => g.node('Relu', [x], out),
  // alpha is float32, as the WGSL's SLOPE override is
  leakyRelu: (g, x, out, p) => g.node('LeakyRelu', [x], out, [{ name: 'alpha', float: p.slope }]),
  tanh: (g, x, out) => g.node('Tanh', [x], out),
  sigmoid: (g, x, out) => g.node('Sigmoid', [x], out),
  linear: (_g, x) => x,
  // shaders/activations/gelu.wgsl operation for operation, in float32:
  //   0.5 * x * (1.0 + tanh(GELU_K * (x + GELU_C * x * x * x)))
  // (its clamp of the tanh's argument to ±15 is left out: tanh is ±1 in float32 from |u| ≈ 9 on).
  gelu: (g, x, out) => {
    const c = g.constant('gelu.c', GELU_C);
    const k = g.constant('gelu.k', GELU_K);
    const cx = g.node('Mul', [c, x], `${out}.cx`);
    const cxx = g.node('Mul', [cx, x], `${out}.cxx`);
    const cxxx = g.node('Mul', [cxx, x], `${out}.cxxx`);
    const inner = g.node('Add', [x, cxxx], `${out}.inner`);
    const u = g.node('Mul', [k, inner], `${out}.u`);
    const t = g.node('Tanh', [u], `${out}.tanh`);
    const onePlusT = g.node('Add', [g.constant('one', 1), t], `${out}.one_plus_tanh`);
    const halfX = g.node('Mul', [g.constant('half', 0.5), x], `${out}.half_x`);
    return g.node('Mul', [halfX, onePlusT], out);
  },
};

/**
 * A layer kind's ONNX form (its activation follows, from ONNX_ACTIVATIONS): the nodes from the value
 * `x`, the last one's output named `out`, `tensor` naming (and adding) the layer's tensor of
 * that file name (`weight`, `norm.running_var`); and how its output is named in the graph,
 * `layers.{block}.{output}`. Typed by the walker's kinds: a kind added without one does not compile.
 */
interface OnnxLayer {
  output: string;
  nodes(g: Graph, x: string, layer: Layer, tensor: (name: string) => string, out: string): string;
}

const ONNX_LAYERS: { readonly [K in LayerKindName]: OnnxLayer } = {
  // Z = A·Wᵀ + b with the file's [out, in] weight (torch.nn.Linear's)
  dense: {
    output: 'z',
    nodes: (g, x, _l, t, out) => g.node('Gemm', [x, t('weight'), t('bias')], out, [{ name: 'transB', int: 1 }]),
  },
  // evaluation is the identity (inverted dropout scales in training): no node, as predict runs none
  dropout: { output: 'dropout', nodes: (_g, x) => x },
  // γ·(x − μ_r)/√(σ_r² + ε) + β over each row's units (docs/maths.md §12; the export §10):
  // LayerNormalization (opset 17) over the last axis, ε in float32 as the kernel's
  layerNorm: {
    output: 'norm',
    nodes: (g, x, layer, t, out) =>
      g.node('LayerNormalization', [x, t('norm.weight'), t('norm.bias')], out, [
        { name: 'axis', int: -1 },
        { name: 'epsilon', float: layer.params.eps as number },
      ]),
  },
  // evaluation form, γ·(x − m)/√(v + ε) + β with the running mean and variance (maths §12): ONNX's
  // BatchNormalization in inference mode (training_mode 0, its default), whose channels are the
  // second dimension — a unit of [batch, units] as BatchNorm1d's
  batchNorm: {
    output: 'norm',
    nodes: (g, x, layer, t, out) =>
      g.node(
        'BatchNormalization',
        [x, t('norm.weight'), t('norm.bias'), t('norm.running_mean'), t('norm.running_var')],
        out,
        [{ name: 'epsilon', float: layer.params.eps as number }],
      ),
  },
};

/** A head's output: its name, what it holds, and its node (none for the regression heads: the logits themselves). */
interface OnnxHead {
  output: string;
  describe(outputs: number): string;
  node?: (g: Graph, z: string, out: string) => string;
}

const ONNX_HEADS: { readonly [K in HeadName]: OnnxHead } = {
  softmax: {
    output: 'probabilities',
    describe: (c) => `class probabilities [batch, ${c}] (softmax over the last layer; each row sums to 1)`,
    node: (g, z, out) => g.node('Softmax', [z], out, [{ name: 'axis', int: -1 }]),
  },
  sigmoid: {
    output: 'probabilities',
    describe: (c) => `a probability per output [batch, ${c}] (sigmoid of the last layer)`,
    node: (g, z, out) => g.node('Sigmoid', [z], out),
  },
  mse: { output: 'values', describe: (c) => `the regression outputs [batch, ${c}]` },
  huber: { output: 'values', describe: (c) => `the regression outputs [batch, ${c}]` },
};

/**
 * A model file (safetensors, as `mlp.save()` and `npm run train` write it) as an ONNX file. Everything
 * is checked first — the file whole, as `loadMLP` checks it, and the options — so a file that cannot be
 * exported is an error that says why (naming `name`), before anything is returned.
 */
export function exportOnnx(bytes: FileBytes, options: OnnxOptions = {}, name = 'model file'): Uint8Array {
  return encodeOnnx(onnxModel(bytes, options, name));
}

/** The ONNX model of a model file (see exportOnnx), before encoding. */
export function onnxModel(bytes: FileBytes, options: OnnxOptions = {}, name = 'model file'): OnnxModel {
  checkOptions(
    options,
    ['featureNames', 'classNames', 'metadata'],
    'an object { featureNames?, classNames?, metadata? }, or nothing',
  );
  let file: LoadedModel;
  let scale: number | undefined;
  let pre: Preprocessing | undefined;
  try {
    file = decodeModel(bytes, name);
    checkSpecKeys(file.metadata, name);
    scale = inputScale(file.metadata, name);
    const { layers } = file.spec;
    const json = file.metadata.preprocessing;
    pre = json === undefined ? undefined : decodePreprocessing(json, layers[0], layers[layers.length - 1], name);
  } catch (error) {
    throw new Error(`cannot export to ONNX: ${(error as Error).message}`, { cause: error });
  }
  const { spec, metadata } = file;
  const D = spec.layers[0];
  const C = spec.layers[spec.layers.length - 1];
  // a table network names its inputs and outputs itself; the options may name them otherwise
  const featureNames =
    names(options.featureNames, D, 'options.featureNames', `one name per input (${D})`) ??
    (pre && tableFeatureNames(inputColumns(pre)));
  const classNames =
    names(options.classNames, C, 'options.classNames', `one name per output (${C})`) ?? (pre && outputNames(pre));
  const extra = options.metadata ?? {};
  if (typeof extra !== 'object' || Array.isArray(extra)) fail('options.metadata', extra, 'an object of strings');
  for (const [key, value] of Object.entries(extra)) {
    if (typeof value !== 'string') fail(`options.metadata["${key}"]`, value, 'a string');
    if ((ONNX_OWN_KEYS as readonly string[]).includes(key)) {
      fail(`options.metadata["${key}"]`, value, `another key: ${ONNX_OWN_KEYS.join(', ')} are the export's own`);
    }
  }

  const g = new Graph();
  let x = ONNX_INPUT;
  if (scale !== undefined) {
    // predict scales bytes as v / 255 (src/infer/predict.ts): dividing by 255 rounds as it does, where
    // multiplying by float32(1/255) would be one unit in the last place off for half the byte values.
    const divisor = 1 / scale;
    x = Number.isInteger(divisor)
      ? g.node('Div', [x, g.constant('input_divisor', divisor)], 'scaled_inputs')
      : g.node('Mul', [x, g.constant('input_scale', scale)], 'scaled_inputs');
  }
  // A table network's inputs x·s + t per column, in float32 as shaders/affine.wgsl computes them (maths §11).
  const inAffine = pre && inputAffine(pre);
  if (inAffine) {
    const s = g.initializer('preprocessing.scale', [D], inAffine.scale);
    const t = g.initializer('preprocessing.shift', [D], inAffine.shift);
    x = g.node('Add', [g.node('Mul', [x, s], 'preprocessed_inputs.scaled'), t], 'preprocessed_inputs');
  }
  const head = ONNX_HEADS[headName(spec) as HeadName];
  // A regression network's outputs z·std + mean (trained on standardised targets), as predict unscales them.
  const outAffine = pre && outputAffine(pre);
  // Each layer of the walker's list as its ONNX form (dropout: none), then its activation; the last
  // layer is the output block's dense layer (linear: the head follows).
  const layers = networkLayers(spec);
  const tensors = new Map(
    [...layerTensors(file.layout, file.params), ...runningTensors(file.layout, file.running)].map((t) => [t.name, t]),
  );
  layers.forEach((layer, i) => {
    const tensor = (name: string) => {
      const full = `layers.${layer.block}.${name}`;
      const t = tensors.get(full);
      if (!t) throw new Error(`ONNX export: the model has no tensor ${full}`); // decodeModel read them all
      g.initializers.push({ name: full, dims: t.shape, data: t.data });
      return full;
    };
    const last = i === layers.length - 1;
    const out =
      last && !head.node && !outAffine ? head.output : `layers.${layer.block}.${ONNX_LAYERS[layer.kind].output}`;
    x = ONNX_LAYERS[layer.kind].nodes(g, x, layer, tensor, out);
    const { definition, params } = layer.activation;
    x = ONNX_ACTIVATIONS[definition.name as ActivationName](g, x, `layers.${layer.block}.${definition.name}`, params);
  });
  if (head.node) x = head.node(g, x, outAffine ? 'head' : head.output);
  if (outAffine) {
    const s = g.initializer('target.std', [C], outAffine.scale);
    const t = g.initializer('target.mean', [C], outAffine.shift);
    g.node('Add', [g.node('Mul', [x, s], 'unscaled_outputs.scaled'), t], head.output);
  }

  const props: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (!Object.hasOwn(OWN_KEYS, key) || OWN_KEYS[key as keyof typeof OWN_KEYS].carried) props[key] = value;
  }
  Object.assign(props, extra);
  props.webgpuMlpVersion = VERSION;
  props.spec = metadata.spec;
  if (featureNames) props.featureNames = JSON.stringify(featureNames);
  if (classNames) props.classNames = JSON.stringify(classNames);
  const summary = describeNetwork(spec);
  return {
    irVersion: ONNX_IR_VERSION,
    opset: ONNX_OPSET,
    producerName: 'webgpu-mlp',
    producerVersion: VERSION,
    doc: `${summary}, exported by webgpu-mlp ${VERSION}: outputs equal mlp.predict's`,
    metadata: props,
    graph: {
      name: 'webgpu-mlp',
      doc: summary,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [
        {
          name: ONNX_INPUT,
          shape: [ONNX_BATCH, D],
          doc:
            `the inputs [batch, ${D}], as mlp.predict takes them` +
            (scale === undefined ? '' : ` (raw: the graph scales them by ${formatValue(scale)}, inputScale)`) +
            (pre
              ? ' (numeric columns raw, categorical ones one-hot, missing cells filled in: the graph scales them as metadata preprocessing says)'
              : '') +
            (featureNames ? `; columns ${featureNames.join(', ')}` : ''),
        },
      ],
      outputs: [
        {
          name: head.output,
          shape: [ONNX_BATCH, C],
          doc: head.describe(C) + (classNames ? `; columns ${classNames.join(', ')}` : ''),
        },
      ],
    },
  };
}

/** Refuses a spec with a key the export does not know (`decodeModel` reads the known ones and would pass it over). */
function checkSpecKeys(metadata: Record<string, string>, name: string): void {
  const spec = metadataObject(metadata, 'spec', name, 'a JSON object { layers, activations, head }');
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.includes(key)) {
      throw new Error(
        `${name}: its spec has "${key}" (${formatValue(JSON.stringify(spec[key]))}), which webgpu-mlp ${VERSION} does not know ` +
          `(a file from a newer version?): it knows ${SPEC_KEYS.join(', ')}`,
      );
    }
  }
}

/** The file's `inputScale`, when it has one: a finite number > 0. */
function inputScale(metadata: Record<string, string>, name: string): number | undefined {
  const raw = metadata.inputScale;
  if (raw === undefined) return undefined;
  const scale = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(scale) || scale <= 0) {
    throw new Error(`${name}: metadata inputScale is ${formatValue(raw)}, expected a number > 0 (1/255 for bytes)`);
  }
  return scale;
}

/** Names as options give them: absent, or one distinct string per column. */
function names(
  given: readonly string[] | undefined,
  count: number,
  arg: string,
  expected: string,
): string[] | undefined {
  if (given === undefined) return undefined;
  if (!Array.isArray(given) || given.length !== count) fail(arg, given, `an array of ${expected}`);
  const list = [...given];
  list.forEach((n, i) => {
    if (typeof n !== 'string' || n === '') fail(`${arg}[${i}]`, n, 'a non-empty string');
    if (list.indexOf(n) !== i)
      fail(`${arg}[${i}]`, n, `a name not given before (it is also ${arg}[${list.indexOf(n)}])`);
  });
  return list;
}

/** `[784, 512, 10] relu, softmax head`; `[784, 256, 10] relu with BatchNorm1d, dropout, softmax head`. */
function describeNetwork(spec: MlpSpec): string {
  const acts = [...new Set(spec.activations.map(describeActivation))];
  const kinds = [
    ...new Set(
      networkLayers(spec)
        .filter((layer) => layer.kind !== 'dense')
        .map((layer) => shapeOf(layer).title),
    ),
  ];
  return (
    `[${spec.layers.join(', ')}]${acts.length ? ` ${acts.join(' / ')}` : ''}` +
    `${kinds.length ? ` with ${kinds.join(', ')}` : ''}, ${describeHead(spec.head)} head`
  );
}
