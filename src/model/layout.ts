/**
 * Where each tensor lives in the model's flat buffers, from the walker's list of layers (layers/).
 *
 * Parameters: [decayed tensors | the others], each tensor starting at a multiple of 64 floats (256
 * bytes, WebGPU's storage-buffer offset alignment), padding zero. The decayed ones are the dense
 * weights W_0 … W_{L−1}, so that L2 decay applies to elements [0, decayCount) and never to biases or a
 * norm's γ, β; then b_0, (γ_0, β_0), b_1, … in the list's order. A plain network's layout is
 * [W_0 | … | W_{L−1} | b_0 | … | b_{L−1}], as it always was. The gradient and the optimizer state
 * buffers share this layout, so one optimizer dispatch updates every parameter.
 *
 * Running statistics (BatchNorm's running mean and variance: saved, never trained) have a flat buffer
 * of their own, laid out the same way (`running`); a network without any has none.
 */
import type { LayerTensor } from './layers/definition.js';
import { networkLayers, shapeOf } from './layers/network.js';
import type { MlpSpec } from './spec.js';

/** Floats per alignment unit: 256 bytes. */
export const ALIGN_FLOATS = 64;

export interface TensorSlot {
  /** Name used in reports and files: `layers.0.weight`, `layers.0.bias`, `layers.0.norm.running_var`. */
  readonly name: string;
  /** Offset in floats. */
  readonly offset: number;
  /** Number of floats. */
  readonly count: number;
  /** Shape: [fanIn, fanOut] for W, [fanOut] for b. */
  readonly shape: readonly number[];
  /** The block (dense layer) whose tensor it is, and its key there (`w`, `b`, `gamma`, …; see LayerTensor). */
  readonly block: number;
  readonly key: string;
  /** The index of its layer in the walker's list. */
  readonly layer: number;
  /** How it is saved and starts (LayerTensor). */
  readonly tensor: LayerTensor;
}

export interface ParamLayout {
  /** The dense weights W_l, by block. */
  readonly weights: readonly TensorSlot[];
  /** The dense biases b_l, by block. */
  readonly biases: readonly TensorSlot[];
  /** Every trained tensor, in file order (by layer, each layer's in its definition's order). */
  readonly tensors: readonly TensorSlot[];
  /** Elements [0, decayCount) are weights (L2-decayed). */
  readonly decayCount: number;
  /** Floats in the flat buffer, padding included. */
  readonly totalFloats: number;
  /** Trainable parameters, padding excluded. */
  readonly parameterCount: number;
  /** The running statistics' own flat buffer: its tensors (in file order) and size (0: none). */
  readonly running: { readonly tensors: readonly TensorSlot[]; readonly totalFloats: number };
}

const align = (n: number) => Math.ceil(n / ALIGN_FLOATS) * ALIGN_FLOATS;

interface Placed {
  layer: number;
  block: number;
  tensor: LayerTensor;
}

/** Slots for tensors placed one after the other from offset `start`, in the given order. */
function place(items: readonly Placed[], start: number): { slots: TensorSlot[]; end: number } {
  let offset = start;
  const slots = items.map(({ layer, block, tensor }) => {
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    const slot = {
      name: `layers.${block}.${tensor.name}`,
      offset,
      count,
      shape: tensor.shape,
      block,
      key: tensor.key,
      layer,
      tensor,
    };
    offset = align(offset + count);
    return slot;
  });
  return { slots, end: offset };
}

export function paramLayout(spec: MlpSpec): ParamLayout {
  const trained: Placed[] = [];
  const running: Placed[] = [];
  for (const layer of networkLayers(spec)) {
    const shape = shapeOf(layer);
    for (const tensor of shape.tensors(layer)) trained.push({ layer: layer.index, block: layer.block, tensor });
    for (const tensor of shape.running(layer)) running.push({ layer: layer.index, block: layer.block, tensor });
  }
  const decayed = place(
    trained.filter((t) => t.tensor.decay),
    0,
  );
  const others = place(
    trained.filter((t) => !t.tensor.decay),
    decayed.end,
  );
  const bySlotOrder = new Map([...decayed.slots, ...others.slots].map((s) => [s.name, s]));
  const tensors = trained.map((t) => bySlotOrder.get(`layers.${t.block}.${t.tensor.name}`) as TensorSlot);
  const stats = place(running, 0);
  return {
    weights: tensors.filter((s) => s.key === 'w'),
    biases: tensors.filter((s) => s.key === 'b'),
    tensors,
    decayCount: decayed.end,
    totalFloats: others.end,
    parameterCount: tensors.reduce((n, s) => n + s.count, 0),
    running: { tensors: stats.slots, totalFloats: stats.end },
  };
}

/** The binding of one tensor inside a flat buffer. */
export function slotBinding(buffer: GPUBuffer, slot: TensorSlot): GPUBufferBinding {
  return { buffer, offset: slot.offset * 4, size: slot.count * 4 };
}

/** A layer's tensors in a flat buffer, by key (what its definition's GPU functions take). */
export function layerBindings(
  buffer: GPUBuffer | undefined,
  slots: readonly TensorSlot[],
  layer: number,
): Record<string, GPUBufferBinding> {
  const out: Record<string, GPUBufferBinding> = {};
  for (const slot of slots) {
    if (slot.layer !== layer) continue;
    if (!buffer) throw new Error(`internal: ${slot.name} has no buffer`);
    out[slot.key] = slotBinding(buffer, slot);
  }
  return out;
}
