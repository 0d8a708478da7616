/**
 * The scheduler's cost per step, with a network so small that the kernels take next to nothing:
 * what is left is encoding, submitting, the per-step uniform writes and the statistics reads.
 *
 *   npx vitest run --config test/perf/vitest.config.ts overhead
 */
import { it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import { GpuDataset } from '../../src/train/dataset.js';
import { GpuBatchTrainer } from '../../src/train/gpu_trainer.js';
import { fit } from '../../src/train/loop.js';
import { Model } from '../../src/train/model.js';
import { randomArray, randomInts } from '../helpers/random.js';

it('steps per second of a tiny network ([4, 8, 2], batch 4)', async () => {
  const ctx = await GpuContext.create();
  const rows = 4096;
  const data = new GpuDataset(ctx, {
    images: randomArray(rows * 4, 1),
    labels: randomInts(rows, 2, 2),
    count: rows,
    cols: 4,
    classes: 2,
  });
  const lines: string[] = [`adapter: ${ctx.adapter?.vendor} ${ctx.adapter?.architecture}`];
  for (const optimizer of ['momentum', 'adam'] as const) {
    for (const [progressEvery, stepsPerSubmit] of [
      [25, 1],
      [25, 8],
      [1000, 1],
      [1000, 8],
    ]) {
      const model = await Model.create({ layers: [4, 8, 2], context: ctx, optimizer: { kind: optimizer } });
      const trainer = new GpuBatchTrainer(model, data);
      await fit(trainer, { epochs: 1, batchSize: 4, progressEvery, stepsPerSubmit }); // warm: plans, pipelines
      // CPU time inside step()/stepMany(): gather setup, uniform writes, encoding and submit
      const step = trainer.step.bind(trainer);
      const stepMany = trainer.stepMany.bind(trainer);
      let cpuMs = 0;
      trainer.step = async (start, n) => {
        const t = performance.now();
        await step(start, n);
        cpuMs += performance.now() - t;
      };
      trainer.stepMany = async (starts, n) => {
        const t = performance.now();
        await stepMany(starts, n);
        cpuMs += performance.now() - t;
      };
      // the best of three runs of two epochs (1,024 steps each)
      let ms = Number.POSITIVE_INFINITY;
      for (let run = 0; run < 3; run++) {
        cpuMs = 0;
        const t0 = performance.now();
        await fit(trainer, { epochs: 2, batchSize: 4, progressEvery, stepsPerSubmit });
        ms = Math.min(ms, performance.now() - t0);
      }
      lines.push(
        `${optimizer}, stats every ${progressEvery} steps, ${stepsPerSubmit} per submit: ${((2 * 1024) / (ms / 1000)).toFixed(0)} steps/s (${((ms * 1000) / 2048).toFixed(0)} µs/step, of which ${((cpuMs * 1000) / 2048).toFixed(0)} µs encoding and submitting)`,
      );
      await model.destroy();
    }
  }
  console.log(lines.join('\n'));
  data.destroy();
  ctx.destroy();
});
