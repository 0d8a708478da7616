/**
 * Where each parameter tensor lives in the model's one flat parameter buffer.
 *
 * Layout: [W_0 | W_1 | … | W_{L−1} | b_0 | … | b_{L−1}], each tensor starting at a multiple of
 * 64 floats (256 bytes, WebGPU's storage-buffer offset alignment), padding zero. Weights first so
 * that L2 decay applies to elements [0, decayCount) and never to biases; the gradient and the
 * optimizer state buffers share this layout, so one optimizer dispatch updates every parameter.
 */
import { layerCount, layerShape, type MlpSpec } from './spec.js';

/** Floats per alignment unit: 256 bytes. */
export const ALIGN_FLOATS = 64;

export interface TensorSlot {
  /** Name used in reports and files: `layers.0.weight`, `layers.0.bias`. */
  readonly name: string;
  /** Offset in floats. */
  readonly offset: number;
  /** Number of floats. */
  readonly count: number;
  /** Shape: [fanIn, fanOut] for W, [fanOut] for b. */
  readonly shape: readonly number[];
}

export interface ParamLayout {
  readonly weights: readonly TensorSlot[];
  readonly biases: readonly TensorSlot[];
  /** Elements [0, decayCount) are weights (L2-decayed). */
  readonly decayCount: number;
  /** Floats in the flat buffer, padding included. */
  readonly totalFloats: number;
  /** Trainable parameters, padding excluded. */
  readonly parameterCount: number;
}

const align = (n: number) => Math.ceil(n / ALIGN_FLOATS) * ALIGN_FLOATS;

export function paramLayout(spec: MlpSpec): ParamLayout {
  const weights: TensorSlot[] = [];
  const biases: TensorSlot[] = [];
  let offset = 0;
  let parameterCount = 0;
  for (let l = 0; l < layerCount(spec); l++) {
    const { fanIn, fanOut } = layerShape(spec, l);
    weights.push({ name: `layers.${l}.weight`, offset, count: fanIn * fanOut, shape: [fanIn, fanOut] });
    offset = align(offset + fanIn * fanOut);
    parameterCount += fanIn * fanOut + fanOut;
  }
  const decayCount = offset;
  for (let l = 0; l < layerCount(spec); l++) {
    const { fanOut } = layerShape(spec, l);
    biases.push({ name: `layers.${l}.bias`, offset, count: fanOut, shape: [fanOut] });
    offset = align(offset + fanOut);
  }
  return { weights, biases, decayCount, totalFloats: offset, parameterCount };
}

/** The binding of one tensor inside a flat buffer. */
export function slotBinding(buffer: GPUBuffer, slot: TensorSlot): GPUBufferBinding {
  return { buffer, offset: slot.offset * 4, size: slot.count * 4 };
}
