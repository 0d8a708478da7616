/**
 * What webgpu-mlp/infer loads only for a file with preprocessing (a network trained on a table): the
 * preprocessing read and checked whole, its transforms made on the GPU, and the predictor that takes
 * named rows and names its predictions (src/table/preprocessing.ts, src/table/rows.ts). A chunk of its
 * own, so that the entry stays small.
 */
import type { GpuContext } from '../gpu/context.js';
import type { GpuInputs } from '../inputs.js';
import type { LoadedModel } from '../io/model_file.js';
import { createTransform } from '../kernels/affine.js';
import type { ParamLayout } from '../model/layout.js';
import type { MlpSpec } from '../model/spec.js';
import { checkOptions } from '../params.js';
import {
  decodePreprocessing,
  inputAffine,
  type NamedPrediction,
  namePredictions,
  outputAffine,
  type Preprocessing,
} from '../table/preprocessing.js';
import { isNamedRows, type NamedRows, type NamedRowsOptions, namedInputs } from '../table/rows.js';
import { MLPPredictor } from './network.js';
import type { HostInputs, PredictOnGpuOptions } from './predict.js';

/**
 * The predictor of a file with preprocessing (its metadata JSON): the preprocessing checked against the
 * network whole, its transforms made on the GPU.
 */
export async function namedPredictor(
  ctx: GpuContext,
  file: LoadedModel,
  weights: { params: GPUBuffer; running?: GPUBuffer },
  label: string,
  json: string,
): Promise<NamedPredictor> {
  const { layers } = file.spec;
  const pre = decodePreprocessing(json, layers[0], layers[layers.length - 1], 'model file');
  const transform = await createTransform(ctx, { input: inputAffine(pre), output: outputAffine(pre) }, label);
  return new NamedPredictor(ctx, file.spec, file.layout, weights, file.metadata, label, { pre, transform });
}

/** An MLPPredictor of a network trained on a table: named rows in, named predictions out. */
export class NamedPredictor extends MLPPredictor {
  private readonly pre: Preprocessing;

  constructor(
    ctx: GpuContext,
    spec: MlpSpec,
    layout: ParamLayout,
    weights: { params: GPUBuffer; running?: GPUBuffer },
    metadata: Readonly<Record<string, string>>,
    label: string,
    loaded: { pre: Preprocessing; transform: { input?: GPUBuffer; output?: GPUBuffer } },
  ) {
    super(ctx, spec, layout, weights, metadata, label, loaded.transform);
    this.pre = loaded.pre;
    Object.defineProperty(this, 'preprocessing', { get: () => structuredClone(this.pre), enumerable: true });
  }

  override predict(inputs: GpuInputs, options?: PredictOnGpuOptions): Promise<GPUBuffer>;
  override predict(inputs: HostInputs): Promise<Float32Array>;
  override predict(rows: NamedRows, options?: NamedRowsOptions): Promise<NamedPrediction[]>;
  override async predict(
    inputs: HostInputs | GpuInputs | NamedRows,
    options: PredictOnGpuOptions | NamedRowsOptions = {},
  ): Promise<Float32Array | GPUBuffer | NamedPrediction[]> {
    if (!isNamedRows(inputs)) return super.predict(inputs as GpuInputs, options as PredictOnGpuOptions);
    this.assertAlive();
    checkOptions(options, ['unknownCategory'], '{ unknownCategory? }, or nothing');
    // Encoded and imputed on the host, scaled and predicted on the GPU, named.
    const { x, count } = namedInputs(inputs, this.pre, options as NamedRowsOptions);
    return namePredictions(await this.predictor.predict(x, count), this.pre);
  }
}
