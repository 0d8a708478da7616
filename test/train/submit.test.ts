/**
 * Several steps per submission (fit's `stepsPerSubmit`, Model.submitSteps): the same arithmetic as
 * one step per submit, bit for bit, with Adam's per-step count, a short last batch, statistics
 * reads that cut the groups and a resume in the middle of an epoch.
 */
import { describe, expect, it } from 'vitest';
import { OPTIMIZERS, type OptimizerKind } from '../../src/optim/index.js';
import { GpuDataset } from '../../src/train/dataset.js';
import { GpuBatchTrainer } from '../../src/train/gpu_trainer.js';
import { fit } from '../../src/train/loop.js';
import { Model } from '../../src/train/model.js';
import { useGpuContext } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';

const gpu = useGpuContext();

async function train(kind: OptimizerKind, stepsPerSubmit: number, start?: { epoch: number; step: number }) {
  const ctx = gpu();
  const rows = 203; // 203 = 12 × 16 + 11: a short last batch
  const data = new GpuDataset(ctx, {
    images: randomArray(rows * 9, 3),
    labels: randomInts(rows, 4, 5),
    count: rows,
    cols: 9,
    classes: 5,
  });
  const model = await Model.create({
    layers: [9, 12, 5],
    context: ctx,
    seed: 2,
    optimizer: { kind, learningRate: 0.02 },
  });
  let submits = 0;
  const submit = ctx.device.queue.submit.bind(ctx.device.queue);
  ctx.device.queue.submit = (cbs) => {
    submits++;
    submit(cbs);
  };
  const losses: number[] = [];
  try {
    await fit(new GpuBatchTrainer(model, data), {
      epochs: 2,
      batchSize: 16,
      seed: 7,
      progressEvery: 5,
      stepsPerSubmit,
      start,
      onStep: (p) => losses.push(p.loss),
    });
  } finally {
    ctx.device.queue.submit = submit;
  }
  const params = await model.readParams();
  const steps = model.steps;
  await model.destroy();
  data.destroy();
  return { params, steps, submits, losses };
}

describe('several steps per submit', () => {
  for (const kind of OPTIMIZERS) {
    it(`${kind}: the same parameters and losses, bit for bit, in fewer submits`, async () => {
      const one = await train(kind, 1);
      const many = await train(kind, 8);
      expect(many.steps).toBe(26);
      expect(one.steps).toBe(26);
      expect(many.params).toEqual(one.params);
      expect(many.losses).toEqual(one.losses);
      // statistics every 5 steps cut the 13 steps of an epoch into groups 5, 5, 2 (the same size) + 1
      // (the short batch): 4 submits an epoch instead of 13; the reads and checkpoints are the same
      expect(one.submits - many.submits).toBe(2 * (13 - 4));
    });
  }

  it('resumes in the middle of an epoch with the same grouping rules', async () => {
    const one = await train('adam', 1, { epoch: 1, step: 7 });
    const many = await train('adam', 4, { epoch: 1, step: 7 });
    expect(many.params).toEqual(one.params);
    expect(many.steps).toBe(26 - 7);
  });
});
