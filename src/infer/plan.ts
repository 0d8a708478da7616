/**
 * ForwardPlan: the buffers and dispatches of a forward pass for one batch size — the layers in order
 * (src/model/dense.ts), then the head's outputs (softmax, σ, or the logits themselves) — made once and
 * reused. Inference uses it alone; a training step (src/train/plan.ts) builds on one that also keeps
 * the Z of the layers whose activation's derivative needs it.
 *
 *   X ← X·s_in + t_in                   a network with preprocessing: its inputs scaled per column, in place (docs/maths.md §11)
 *   A_{l+1} = act_l(A_l·W_l + b_l)      l = 0 … L−1, one fused matmul each; A_0 = X: [B, D]
 *   P = outputs(Z_{L−1})                the head's outputs: [B, C]
 *   P = Z_{L−1}·s_out + t_out           prediction plans of a regression network with preprocessing: unscaled, in place
 */
import { DeviceLimitError, formatBytes, type GpuContext } from '../gpu/context.js';
import type { MatmulChooser } from '../kernels/matmul.js';
import { type GpuOp, OpScope } from '../kernels/op.js';
import { denseForward, denseLayers } from '../model/dense.js';
import { resolveHeadOutputs } from '../model/heads/outputs.js';
import { type ParamLayout, slotBinding } from '../model/layout.js';
import type { MlpSpec } from '../model/spec.js';

/** What a plan needs from the network it runs. */
export interface PlanModel {
  readonly ctx: GpuContext;
  readonly spec: MlpSpec;
  readonly layout: ParamLayout;
  /** The parameters, flat (see ParamLayout). */
  readonly params: GPUBuffer;
  readonly label: string;
  /**
   * The network's preprocessing on the GPU, when it has one (src/table/preprocessing.ts): `input`, the
   * scale then shift of each input, f32 [2, D], applied before the first layer by every plan; `output`,
   * those of each output, f32 [2, C], applied to a regression head's outputs by prediction plans.
   */
  readonly transform?: { readonly input?: GPUBuffer; readonly output?: GPUBuffer };
}

type Limits = Pick<GPUSupportedLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>;

/** The most rows a plan of this network can have: its widest activation must fit one storage binding. */
export function maxPlanRows(spec: MlpSpec, limits: Limits): number {
  const widest = Math.max(...spec.layers);
  return Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / (4 * widest));
}

/** Throws a DeviceLimitError, saying what fits, unless a plan of `batch` rows fits the device's limits. */
export function checkPlanFits(spec: MlpSpec, limits: Limits, batch: number): void {
  const maxRows = maxPlanRows(spec, limits);
  const widest = Math.max(...spec.layers);
  if (maxRows < 1) {
    throw new DeviceLimitError(
      `layers [${spec.layers.join(', ')}]: a width of ${widest} is too large for this device (one row needs ${formatBytes(4 * widest)})`,
    );
  }
  if (batch > maxRows) {
    throw new DeviceLimitError(
      `batch size ${batch} is too large for this device: a [${batch}, ${widest}] activation of layers [${spec.layers.join(', ')}] needs ${formatBytes(batch * widest * 4)}, over what one buffer may bind (${formatBytes(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize))}); use at most ${maxRows} rows per batch`,
    );
  }
}

export class ForwardPlan {
  readonly batch: number;
  /** X: [B, D] (a network with an input transform scales it in place before the first layer). */
  readonly x: GPUBuffer;
  /** A_1 … A_{L−1} (hidden activations), then the logits Z_{L−1}: [B, n_{l+1}] each. */
  readonly outputs: GPUBuffer[];
  /** Z of each layer that keeps it (training, activations whose derivative reads their input), else undefined. */
  readonly pre: (GPUBuffer | undefined)[];
  /** The head's outputs, what `predict` returns (probabilities, or the logits themselves): [B, C]. */
  readonly probs: GPUBuffer;
  forward: GpuOp[] = [];
  /** The head's outputs into `probs`; empty when they are the logits. */
  probabilities: GpuOp[] = [];
  /** Owns every buffer and uniform of the plan (a training step's own too: see StepPlan). */
  readonly scope: OpScope;

  constructor(
    private readonly model: PlanModel,
    batch: number,
    /** Keep the Z of layers whose activation's derivative needs it (training). */
    keepPre = false,
  ) {
    const { spec } = model;
    checkPlanFits(spec, model.ctx.device.limits, batch);
    this.batch = batch;
    this.scope = new OpScope(model.ctx);
    const name = `${model.label}.B${batch}`;
    try {
      this.x = this.storage(`${name}.x`, batch * spec.layers[0] * 4);
      const layers = denseLayers(spec);
      this.outputs = [];
      this.pre = [];
      for (const layer of layers) {
        const l = layer.index;
        const what = l === layers.length - 1 ? 'logits' : `layers.${l}.activation`;
        this.outputs.push(this.storage(`${name}.${what}`, batch * layer.fanOut * 4));
        const keep = keepPre && layer.keepsPreActivation;
        this.pre.push(keep ? this.storage(`${name}.layers.${l}.Z`, batch * layer.fanOut * 4) : undefined);
      }
      const hasOutputs = resolveHeadOutputs(spec.head).outputs.prepareOutputs !== undefined;
      const C = spec.layers[spec.layers.length - 1];
      this.probs = hasOutputs ? this.storage(`${name}.probs`, batch * C * 4) : (this.outputs.at(-1) as GPUBuffer);
    } catch (error) {
      this.scope.destroy();
      throw error;
    }
  }

  /** A storage buffer of this plan. */
  storage(label: string, size: number): GPUBuffer {
    return this.scope.storage(label, size);
  }

  /** Bytes of every buffer this plan made, uniforms included (see planCost). */
  get bytes(): number {
    return this.scope.bytes;
  }

  /** How many buffers this plan made, uniforms included (see planCost). */
  get buffers(): number {
    return this.scope.count;
  }

  /** Input of layer l: X for the first layer, A_l after. */
  input(l: number): GPUBuffer {
    return l === 0 ? this.x : this.outputs[l - 1];
  }

  /**
   * Prepares the forward dispatches and the head's outputs; `choose` (a step plan's tuner) picks the
   * matmul kernels. Without a tuner every dispatch is prepared at once, so that their pipelines compile
   * in parallel (the tuner times kernels, one problem at a time). A prediction plan (`predicts`) also
   * unscales a regression network's outputs.
   */
  async prepare(choose?: MatmulChooser, predicts?: boolean): Promise<void> {
    const { ctx, spec, layout, params, transform } = this.model;
    const name = `${this.model.label}.B${this.batch}`;
    // forward: A_{l+1} = act_l(A_l·W_l + b_l)
    const forward = denseLayers(spec).map((layer) => () => {
      const l = layer.index;
      return denseForward(
        ctx,
        this.scope,
        layer,
        this.batch,
        {
          input: this.input(l),
          weight: slotBinding(params, layout.weights[l]),
          bias: slotBinding(params, layout.biases[l]),
          output: this.outputs[l],
          pre: this.pre[l],
        },
        `${name}.layers.${l}.forward`,
        choose,
      );
    });
    const head = resolveHeadOutputs(spec.head).outputs;
    const outputs = head.prepareOutputs?.bind(head);
    const probabilities = outputs
      ? [
          () => {
            const C = spec.layers[spec.layers.length - 1];
            return outputs(
              ctx,
              this.scope,
              { logits: this.outputs[this.outputs.length - 1], rows: this.batch, cols: C, out: this.probs },
              `${name}.${head.name}.outputs`,
            );
          },
        ]
      : [];
    const [f, p] = await prepareAll([forward, probabilities], choose === undefined);
    this.forward.push(...f);
    this.probabilities.push(...p);
    // A network with preprocessing: its transforms, from a chunk loaded only then (webgpu-mlp/infer stays small).
    if (transform) await (await import('../kernels/affine.js')).addTransforms(ctx, this, transform, predicts, name);
  }

  /** A prediction plan ready to encode, its buffers freed if making it fails (out of memory included). */
  static async create(model: PlanModel, batch: number): Promise<ForwardPlan> {
    return ForwardPlan.made(
      model,
      batch,
      () => new ForwardPlan(model, batch),
      (p) => p.prepare(undefined, true),
    );
  }

  /**
   * Makes a plan's buffers inside an out-of-memory error scope (GpuContext.allocating: an allocation the
   * device could not make is raised), then prepares its dispatches; the plan is destroyed on any failure.
   */
  static async made<P extends { destroy(): void }>(
    model: PlanModel,
    batch: number,
    make: () => P,
    prepare: (plan: P) => Promise<void>,
  ): Promise<P> {
    const plan = await model.ctx.allocating(
      `the buffers of batch size ${batch}`,
      make,
      (made) => made.destroy(),
      'use a smaller batch size or a smaller network',
    );
    try {
      await prepare(plan);
    } catch (error) {
      plan.destroy();
      throw error;
    }
    return plan;
  }

  /** Encodes the forward pass and the head's outputs. */
  encode(pass: GPUComputePassEncoder): void {
    for (const op of this.forward) op.encode(pass);
    for (const op of this.probabilities) op.encode(pass);
  }

  destroy(): void {
    this.scope.destroy();
  }
}

/**
 * Runs groups of preparations (each a function returning a prepared op or ops) and returns their results
 * group by group, in order: all at once when `parallel` (their pipelines compile side by side), else one
 * after the other (a tuner measuring kernels must not share the device with compilations).
 */
export async function prepareAll<T>(
  groups: readonly (readonly (() => Promise<T>)[])[],
  parallel: boolean,
): Promise<T[][]> {
  // Every preparation settles before a failure is thrown: none is left making buffers in a plan that
  // its caller is about to destroy.
  if (parallel) return settleAll(groups.map((group) => settleAll(group.map((make) => make()))));
  const results: T[][] = [];
  for (const group of groups) {
    const done: T[] = [];
    for (const make of group) done.push(await make());
    results.push(done);
  }
  return results;
}

/** Promise.all that waits for every promise to settle before rejecting with the first failure. */
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
