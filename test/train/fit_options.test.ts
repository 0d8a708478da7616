/**
 * fit's conveniences (issue 14), each against the Float64 reference or a hand-computed expectation:
 * learning-rate schedules, early stopping that restores the best epoch exactly, validationSplit,
 * epoch numbers that continue across calls, batch sizes clamped to the data, onStep granularity and
 * samples/s without the setup.
 */
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import { decodeCheckpoint, encodeCheckpoint, type MLPCheckpoint } from '../../src/io/checkpoint_file.js';
import { MATMUL_WAIT_WORK } from '../../src/kernels/matmul.js';
import { createMLP, type FitOptions, type MLP } from '../../src/mlp.js';
import { paramLayout } from '../../src/model/layout.js';
import { resolveOptimizer } from '../../src/optim/index.js';
import { toRefParams } from '../../src/train/check.js';
import { CpuBatchTrainer } from '../../src/train/cpu.js';
import { GpuDataset } from '../../src/train/dataset.js';
import { resolveEarlyStopping } from '../../src/train/early_stopping.js';
import { GpuBatchTrainer } from '../../src/train/gpu_trainer.js';
import {
  type EpochResult,
  fit,
  INITIAL_LOSS_MIN_ROWS,
  INITIAL_LOSS_WORK,
  initialLossRows,
} from '../../src/train/loop.js';
import { Model } from '../../src/train/model.js';
import { resolveLearningRate, type ScheduleAt } from '../../src/train/schedule.js';
import { expectClose } from '../helpers/close.js';
import { useGpuContext } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';

const gpu = useGpuContext();

/** Three noisy classes in 4-D. */
function data(n: number, seed: number): { x: Float32Array<ArrayBuffer>; y: Uint32Array<ArrayBuffer> } {
  const x = randomArray(n * 4, seed, 0.5);
  const y = randomInts(n, seed + 1, 3);
  for (let i = 0; i < n; i++) x[4 * i + (y[i] as number)] += 1;
  return { x, y };
}

const net = (seed = 1) => createMLP({ layers: [4, 8, 3], activation: 'tanh', seed, device: gpu().device });
const paramsOf = (mlp: MLP) => mlp.model.readParams();

describe('learning-rate schedules', () => {
  const at = (epoch: number, step: number, stepsPerEpoch = 10): ScheduleAt => ({
    epoch,
    step: (epoch - 1) * stepsPerEpoch + step,
    stepsPerEpoch,
  });

  it('presets give the rates of their formulas (PyTorch StepLR, CosineAnnealingLR, linear warm-up)', () => {
    const step = resolveLearningRate({ type: 'step', initial: 0.1, every: 2, gamma: 0.5 }, () => 1).schedule!;
    expect([1, 2, 3, 4, 5].map((e) => step(at(e, 0)))).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
    const cosine = resolveLearningRate({ type: 'cosine', initial: 0.1, epochs: 4, min: 0.01 }, () => 1).schedule!;
    // torch: eta_min + (base − eta_min)(1 + cos(π e / T_max)) / 2 at epoch index e = 0, 1, …
    const expected = [0, 1, 2, 3, 4, 5].map((e) => 0.01 + (0.09 * (1 + Math.cos((Math.PI * Math.min(e, 4)) / 4))) / 2);
    for (const [i, e] of [1, 2, 3, 4, 5, 6].entries()) expect(cosine(at(e, 3))).toBeCloseTo(expected[i] as number, 15);
    const warm = resolveLearningRate({ type: 'warmup', warmupSteps: 4 }, () => 0.2).schedule!;
    expect([0, 1, 2, 3, 4, 9].map((s) => warm(at(1, s)))).toEqual([0.05, 0.1, 0.15000000000000002, 0.2, 0.2, 0.2]);
    // warmupSteps composes with the others; `initial` defaults to the optimizer's rate.
    const both = resolveLearningRate({ type: 'step', every: 1, gamma: 0.5, warmupSteps: 2 }, () => 0.4).schedule!;
    expect([both(at(1, 0)), both(at(1, 1)), both(at(2, 0))]).toEqual([0.2, 0.4, 0.2]);
  });

  it('rejects bad presets and rates, saying what was expected', () => {
    const r = (v: unknown) => () => resolveLearningRate(v, () => 0.1);
    expect(r({ type: 'linear' })).toThrow(
      `options.learningRate.type = "linear" is invalid: expected 'step', 'cosine' or 'warmup'`,
    );
    expect(r({ type: 'step' })).toThrow('options.learningRate.every = undefined is invalid');
    expect(r({ type: 'step', every: 0 })).toThrow(
      'options.learningRate.every = 0 is invalid: expected an integer in [1,',
    );
    expect(r({ type: 'cosine', epochs: 5, gamma: 2 })).toThrow('options.learningRate.gamma = 2 is invalid');
    expect(r({ type: 'warmup', warmupSteps: 3, initial: -1 })).toThrow('options.learningRate.initial = -1 is invalid');
    expect(r('fast')).toThrow('options.learningRate = "fast" is invalid');
    const f = resolveLearningRate(
      () => 2000,
      () => 0.1,
    ).schedule!;
    expect(() => f(at(3, 1))).toThrow(
      'options.learningRate gave 2000 for epoch 3, step 21: expected a finite number in (0, 1000]',
    );
  });

  it('a per-step schedule on the GPU trains as the Float64 reference does, also within multi-step submits', async () => {
    const { x, y } = data(96, 3);
    const schedule = ({ step }: ScheduleAt) => 0.3 / (1 + step); // different for every step of a submit
    const options = { epochs: 2, batchSize: 8, seed: 5 }; // 12 steps per epoch: submits of 8 and 4
    const mlp = await net(7);
    await mlp.fit(x, y, { ...options, optimizer: 'momentum', learningRate: schedule });
    const optimizer = resolveOptimizer({ kind: 'momentum' });
    const cpu = new CpuBatchTrainer(
      mlp.model.spec,
      optimizer,
      { images: x, labels: y, count: 96, cols: 4, classes: 3, scale: 1 },
      undefined,
      7,
    );
    await fit(cpu, { ...options, learningRate: schedule });
    const got = toRefParams(paramLayout(mlp.model.spec), await paramsOf(mlp));
    cpu.params.forEach((p, l) => {
      expectClose(got[l]!.w, p.w, { atol: 1e-5, rtol: 1e-4 }, `layers.${l}.weight`);
      expectClose(got[l]!.b, p.b, { atol: 1e-5, rtol: 1e-4 }, `layers.${l}.bias`);
    });
    // A constant schedule is the constant rate, bit for bit.
    const a = await net(7);
    const b = await net(7);
    await a.fit(x, y, { ...options, optimizer: 'adam', learningRate: 0.01 });
    await b.fit(x, y, { ...options, optimizer: 'adam', learningRate: () => 0.01 });
    expect(await paramsOf(b)).toEqual(await paramsOf(a));
    for (const m of [mlp, a, b]) await m.destroy();
  });

  it('a schedule out of range is refused before any step, the network unchanged', async () => {
    const { x, y } = data(32, 1);
    const mlp = await net();
    const before = await paramsOf(mlp);
    await expect(
      mlp.fit(x, y, { epochs: 3, batchSize: 8, learningRate: ({ epoch }) => (epoch === 3 ? 0 : 0.1) }),
    ).rejects.toThrow('options.learningRate gave 0 for epoch 3, step 8');
    expect(await paramsOf(mlp)).toEqual(before);
    expect(mlp.model.steps).toBe(0);
    await mlp.destroy();
  });
});

describe('early stopping', () => {
  it('stops after `patience` epochs without improvement and restores exactly the best epoch', async () => {
    const { x, y } = data(64, 11);
    const val = { inputs: data(32, 12).x, labels: randomInts(32, 99, 3) }; // labels unrelated: it overfits
    for (const patience of [0, 2]) {
      const mlp = await net(2);
      const after = new Map<number, MLPCheckpoint['state']>(); // the state after each epoch, from the checkpoints
      const results = await mlp.fit(x, y, {
        epochs: 40,
        batchSize: 16,
        optimizer: 'adam',
        learningRate: 0.05,
        validation: val,
        earlyStopping: { patience },
        onCheckpoint: (c: MLPCheckpoint) => {
          if (c.step === 0) after.set(c.epoch - 1, c.state);
        },
      });
      // The expectation from the losses themselves: the first epoch that leaves `patience` + 0 epochs
      // (at least one) behind the best without improving on it.
      let best = Number.POSITIVE_INFINITY;
      let bestEpoch = 0;
      let wait = 0;
      let stopAt = 40;
      for (const r of results) {
        if ((r.testLoss as number) < best) {
          best = r.testLoss as number;
          bestEpoch = r.epoch;
          wait = 0;
        } else if (++wait >= Math.max(1, patience)) {
          stopAt = r.epoch;
          break;
        }
      }
      expect(stopAt).toBeLessThan(40); // the run did stop early
      expect(results.length).toBe(stopAt);
      expect(after.has(stopAt)).toBe(false); // no checkpoint of the restored state as if it were epoch stopAt's
      const last = results.at(-1) as EpochResult;
      expect(last.earlyStopping).toEqual({ stopped: true, bestEpoch, best, restored: true });
      expect(results.slice(0, -1).every((r) => r.earlyStopping === undefined)).toBe(true);
      // Bit for bit: the parameters, the optimizer's state and its step count after the best epoch.
      const saved = after.get(bestEpoch) as MLPCheckpoint['state'];
      expect(await paramsOf(mlp)).toEqual(saved.params);
      expect(await mlp.model.readOptimizerState()).toEqual({ step: saved.step, buffers: saved.state });
      const ev = await mlp.evaluate(val.inputs, val.labels);
      expect(ev.loss).toBeCloseTo(best, 6);
      await mlp.destroy();
    }
  });

  it('a run resumed from its checkpoints, also after the best epoch and mid-epoch, stops and restores as the uninterrupted run, bit for bit (through a file too)', async () => {
    const { x, y } = data(64, 11);
    const val = { inputs: data(32, 12).x, labels: randomInts(32, 99, 3) };
    const options: FitOptions = {
      epochs: 40,
      batchSize: 16,
      optimizer: 'adam',
      learningRate: 0.05,
      validation: val,
      earlyStopping: { patience: 2 },
      progressEvery: 2,
      checkpointEvery: 2,
    };
    const whole = await net(2);
    const checkpoints: MLPCheckpoint[] = [];
    const results = await whole.fit(x, y, { ...options, onCheckpoint: (c) => void checkpoints.push(c) });
    const last = results.at(-1) as EpochResult;
    const { bestEpoch } = last.earlyStopping as NonNullable<EpochResult['earlyStopping']>;
    expect(last.earlyStopping?.stopped).toBe(true);
    expect(last.earlyStopping?.restored).toBe(true);
    expect(bestEpoch).toBeLessThan(last.epoch - 1); // checkpoints after the best epoch exist
    const after = checkpoints.filter((c) => c.epoch > bestEpoch + 1 || (c.epoch === bestEpoch + 1 && c.step > 0));
    expect(after.length).toBeGreaterThan(0);
    expect(after[0]?.earlyStopping).toMatchObject({ bestEpoch, wait: 0, settings: { patience: 2 } });
    const picks = [checkpoints[3], after[0], after.find((c) => c.step > 0), after.at(-1)] as MLPCheckpoint[];
    for (const cp of picks) {
      const resumed = await net(7);
      const rest = await resumed.fit(x, y, { ...options, resume: decodeCheckpoint(encodeCheckpoint(cp)) });
      const from = cp.step > 0 ? cp.epoch + 1 : cp.epoch; // a partial first epoch reports only its own steps
      const strip = (r: EpochResult) => [r.epoch, r.trainLoss, r.testLoss, r.earlyStopping];
      expect(rest.filter((r) => r.epoch >= from).map(strip), `resumed at ${cp.epoch}/${cp.step}`).toEqual(
        results.filter((r) => r.epoch >= from).map(strip),
      );
      expect(await paramsOf(resumed)).toEqual(await paramsOf(whole));
      expect(await resumed.model.readOptimizerState()).toEqual(await whole.model.readOptimizerState());
      await resumed.destroy();
    }
    // Another early stopping is another run.
    const other = await net(7);
    await expect(
      other.fit(x, y, { ...options, earlyStopping: { patience: 3 }, resume: after[0] as MLPCheckpoint }),
    ).rejects.toThrow(
      /the checkpoint belongs to another run \(early stopping .*"patience":2.* in the checkpoint, .*"patience":3.* now\)/,
    );
    await expect(
      other.fit(x, y, { ...options, earlyStopping: undefined, resume: after[0] as MLPCheckpoint }),
    ).rejects.toThrow(/early stopping .* in the checkpoint, none now/);
    for (const m of [whole, other]) await m.destroy();
  });

  it('monitors accuracies upwards, and restoreBest: false keeps the last parameters', async () => {
    const { x, y } = data(48, 4);
    const mlp = await net(3);
    const results = await mlp.fit(x, y, {
      epochs: 6,
      batchSize: 16,
      learningRate: 0.05,
      earlyStopping: { monitor: 'trainAccuracy', patience: 100, restoreBest: false },
    });
    expect(results.length).toBe(6);
    const accuracies = results.map((r) => r.trainAccuracy);
    const best = Math.max(...accuracies);
    const last = results.at(-1) as EpochResult;
    expect(last.earlyStopping).toMatchObject({
      stopped: false,
      best,
      bestEpoch: accuracies.indexOf(best) + 1,
      restored: false,
    });
    await mlp.destroy();
  });

  it('counts only improvements larger than minDelta', async () => {
    const { x, y } = data(48, 5);
    const mlp = await net(3);
    const results = await mlp.fit(x, y, {
      epochs: 5,
      batchSize: 16,
      learningRate: 0.05,
      earlyStopping: { monitor: 'trainLoss', minDelta: 1e6, restoreBest: false },
    });
    expect(results.length).toBe(2); // epoch 2 improved, but by less than 1e6
    expect(results[1]?.trainLoss).toBeLessThan(results[0]?.trainLoss as number);
    expect(results[1]?.earlyStopping).toEqual({
      stopped: true,
      bestEpoch: 1,
      best: results[0]?.trainLoss,
      restored: false,
    });
    await mlp.destroy();
  });

  it('checks its options', () => {
    expect(() => resolveEarlyStopping({}, false)).not.toThrow();
    expect(resolveEarlyStopping({}, true)).toEqual({
      monitor: 'testLoss',
      patience: 0,
      minDelta: 0,
      restoreBest: true,
    });
    expect(resolveEarlyStopping({}, false)?.monitor).toBe('trainLoss');
    expect(() => resolveEarlyStopping({ monitor: 'testLoss' }, false)).toThrow(
      'options.earlyStopping.monitor = "testLoss" needs validation data: give options.validation or options.validationSplit, or monitor \'trainLoss\'',
    );
    expect(() => resolveEarlyStopping({ monitor: 'loss' }, true)).toThrow(
      'options.earlyStopping.monitor = "loss" is invalid',
    );
    expect(() => resolveEarlyStopping({ patience: -1 }, true)).toThrow(
      'options.earlyStopping.patience = -1 is invalid',
    );
    expect(() => resolveEarlyStopping({ patient: 3 }, true)).toThrow('options.earlyStopping.patient = 3 is invalid');
    expect(() => resolveEarlyStopping({ restoreBest: 'yes' }, true)).toThrow(
      'options.earlyStopping.restoreBest = "yes" is invalid',
    );
    expect(() => resolveEarlyStopping(5, true)).toThrow('options.earlyStopping = 5 is invalid');
  });
});

describe('validationSplit', () => {
  it('holds out the last rows, exactly as giving them as validation data', async () => {
    const { x, y } = data(40, 6);
    const options: FitOptions = { epochs: 2, batchSize: 8, seed: 1, learningRate: 0.05 };
    const a = await net(4);
    const b = await net(4);
    const split = await a.fit(x, y, { ...options, validationSplit: 0.25 });
    const given = await b.fit(x.subarray(0, 30 * 4), y.subarray(0, 30), {
      ...options,
      validation: { inputs: x.subarray(30 * 4), labels: y.subarray(30) },
    });
    expect(split.map((r) => [r.trainLoss, r.testLoss, r.testAccuracy])).toEqual(
      given.map((r) => [r.trainLoss, r.testLoss, r.testAccuracy]),
    );
    expect(await paramsOf(a)).toEqual(await paramsOf(b));
    await a.destroy();
    await b.destroy();
  });

  it('splits sample weights with the rows: the held-out rows are evaluated unweighted', async () => {
    const { x, y } = data(40, 7);
    const weights = Float32Array.from({ length: 40 }, (_, i) => 0.5 + (i % 3));
    const options: FitOptions = { epochs: 2, batchSize: 8, seed: 2, learningRate: 0.05 };
    const a = await net(9);
    const b = await net(9);
    const split = await a.fit(x, y, { ...options, validationSplit: 0.25, sampleWeights: weights });
    const given = await b.fit(x.subarray(0, 30 * 4), y.subarray(0, 30), {
      ...options,
      sampleWeights: weights.subarray(0, 30),
      validation: { inputs: x.subarray(30 * 4), labels: y.subarray(30) },
    });
    expect(split.map((r) => [r.trainLoss, r.testLoss])).toEqual(given.map((r) => [r.trainLoss, r.testLoss]));
    expect(await paramsOf(a)).toEqual(await paramsOf(b));
    await expect(a.fit(x, y, { validationSplit: 0.25, sampleWeights: weights.subarray(0, 30) })).rejects.toThrow(
      'options.sampleWeights has 30 values, expected one per row of the data (40), which validationSplit then splits',
    );
    await a.destroy();
    await b.destroy();
  });

  it('refuses what it cannot split, leaving the network as it was', async () => {
    const { x, y } = data(10, 2);
    const mlp = await net();
    const before = await paramsOf(mlp);
    await expect(mlp.fit(x, y, { validationSplit: 1 })).rejects.toThrow(
      'options.validationSplit = 1 is invalid: expected a fraction in (0, 1)',
    );
    await expect(mlp.fit(x, y, { validationSplit: 0.95 })).rejects.toThrow(
      'options.validationSplit = 0.95 of 10 rows leaves 0 to train on and 10 to validate: both need at least one row',
    );
    await expect(mlp.fit(x, y, { validationSplit: 0.2, validation: { inputs: x, labels: y } })).rejects.toThrow(
      'options.validationSplit and options.validation were both given',
    );
    const buffer = gpu().device.createBuffer({ size: x.byteLength, usage: GPUBufferUsage.STORAGE });
    await expect(mlp.fit({ buffer, count: 10 }, y, { validationSplit: 0.2 })).rejects.toThrow(
      'options.validationSplit needs inputs in host memory',
    );
    buffer.destroy();
    expect(await paramsOf(mlp)).toEqual(before);
    await mlp.destroy();
  });
});

describe('epochs across fit calls', () => {
  it('number on from the last call, and two calls of 2 epochs train exactly as one of 4', async () => {
    const { x, y } = data(40, 8);
    const options: FitOptions = { batchSize: 8, seed: 3, optimizer: 'adam', learningRate: 0.02 };
    const a = await net(5);
    const first = await a.fit(x, y, { ...options, epochs: 2 });
    const second = await a.fit(x, y, { ...options, epochs: 2 });
    expect(first.map((r) => r.epoch)).toEqual([1, 2]);
    expect(second.map((r) => r.epoch)).toEqual([3, 4]);
    const b = await net(5);
    const once = await b.fit(x, y, { ...options, epochs: 4 });
    expect(once.map((r) => r.trainLoss)).toEqual([...first, ...second].map((r) => r.trainLoss));
    expect(await paramsOf(a)).toEqual(await paramsOf(b));
    // initialEpoch numbers from where it says.
    const again = await a.fit(x, y, { ...options, epochs: 1, initialEpoch: 0 });
    expect(again.map((r) => r.epoch)).toEqual([1]);
    await expect(a.fit(x, y, { initialEpoch: -1 })).rejects.toThrow('options.initialEpoch = -1 is invalid');
    let checkpoint: MLPCheckpoint | undefined;
    await b.fit(x, y, {
      ...options,
      onCheckpoint: (c) => {
        checkpoint = c;
      },
    });
    await expect(a.fit(x, y, { ...options, epochs: 9, initialEpoch: 2, resume: checkpoint })).rejects.toThrow(
      'options.initialEpoch cannot be given with options.resume',
    );
    await a.destroy();
    await b.destroy();
  });

  it("a finished run's last checkpoint: the same epochs give the finished model, a larger epochs one longer run, bit for bit", async () => {
    const { x, y } = data(40, 8);
    const options: FitOptions = { batchSize: 8, seed: 3, optimizer: 'adam', learningRate: 0.02 };
    const a = await net(5);
    const checkpoints: MLPCheckpoint[] = [];
    await a.fit(x, y, { ...options, epochs: 2, onCheckpoint: (c) => void checkpoints.push(c) });
    expect(checkpoints.map((c) => [c.epoch, c.step])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0], // after the last epoch: the state the run ended with
    ]);
    const end = checkpoints.at(-1) as MLPCheckpoint;
    expect(end.state.params).toEqual(await paramsOf(a));
    const c = await net(9); // another initialisation: resume replaces it
    await expect(c.fit(x, y, { ...options, epochs: 1, resume: end })).rejects.toThrow(
      /epochs = 1 is invalid: the run resumes at epoch 3, step 0, past the end of a run of 1 epochs/,
    );
    // The same epochs: nothing to train, the finished model (a process killed before saving it gets it back).
    const finished = await net(9);
    expect(
      await finished.fit(x, y, { ...options, epochs: 2, resume: decodeCheckpoint(encodeCheckpoint(end)) }),
    ).toEqual([]);
    expect(await paramsOf(finished)).toEqual(await paramsOf(a));
    expect(await finished.model.readOptimizerState()).toEqual(await a.model.readOptimizerState());
    expect((await finished.fit(x, y, { ...options, epochs: 1 })).map((r) => r.epoch)).toEqual([3]); // numbered on
    await finished.destroy();
    const more = await c.fit(x, y, { ...options, epochs: 3, resume: end });
    expect(more.map((r) => r.epoch)).toEqual([3]);
    const b = await net(5);
    const once = await b.fit(x, y, { ...options, epochs: 3 });
    expect(more[0]?.trainLoss).toBe(once[2]?.trainLoss);
    expect(await paramsOf(c)).toEqual(await paramsOf(b));
    expect(await c.model.readOptimizerState()).toEqual(await b.model.readOptimizerState());
    for (const m of [a, b, c]) await m.destroy();
  });
});

describe('batch size, progress and speed', () => {
  it('clamps a batch size larger than the data to the data', async () => {
    const { x, y } = data(20, 9);
    const a = await net(6);
    const b = await net(6);
    const steps: number[] = [];
    await a.fit(x, y, { epochs: 2, batchSize: 1000, seed: 2, onStep: (p) => steps.push(p.stepsPerEpoch) });
    await b.fit(x, y, { epochs: 2, batchSize: 20, seed: 2 });
    expect(steps.every((s) => s === 1)).toBe(true);
    expect(await paramsOf(a)).toEqual(await paramsOf(b));
    await a.destroy();
    await b.destroy();
  });

  it('onStep every step with progressEvery: 1; setupMs apart from the samples/s', async () => {
    const { x, y } = data(40, 10);
    const mlp = await net();
    const seen: string[] = [];
    const results = await mlp.fit(x, y, {
      epochs: 2,
      batchSize: 8,
      progressEvery: 1,
      onStep: (p) => seen.push(`${p.epoch}.${p.step}`),
    });
    expect(seen).toEqual(['1.1', '1.2', '1.3', '1.4', '1.5', '2.1', '2.2', '2.3', '2.4', '2.5']);
    const [first, second] = results as [EpochResult, EpochResult];
    expect(first.setupMs).toBeGreaterThan(0);
    expect(second.setupMs).toBeUndefined();
    for (const r of results) expect(r.samplesPerSecond).toBeCloseTo(40 / (r.epochMs / 1000), 6);
    expect(first.elapsedMs).toBeGreaterThanOrEqual((first.setupMs as number) + first.epochMs);
    await expect(mlp.fit(x, y, { progressEvery: 0 })).rejects.toThrow('progressEvery = 0 is invalid');
    await mlp.destroy();
  });
});

describe('setup: what a run makes before its first step', () => {
  it('measures the loss before training on the first batch, or on fewer rows (at least 256) when that batch is costly', () => {
    expect(initialLossRows(133, 1_703)).toBe(133); // a table
    expect(initialLossRows(128, 203_530)).toBe(128); // MNIST [784,256,10]: 26M multiply-adds
    expect(initialLossRows(1024, 1_863_690)).toBe(INITIAL_LOSS_MIN_ROWS); // [784,1024,1024,10]: 1.9G
    expect(initialLossRows(1024, 100_000)).toBe(Math.floor(INITIAL_LOSS_WORK / 100_000));
    expect(initialLossRows(100, 1e9)).toBe(100); // never more than the batch
  });

  it("a large step waits in setup for its large products' faster kernels: none is encoded on the quick one", async () => {
    const D = 256;
    const rows = 200;
    const x = Float32Array.from({ length: rows * D }, (_, i) => Math.sin(i * 0.37));
    const y = Uint32Array.from({ length: rows }, (_, i) => i % 10);
    const mlp = await createMLP({ layers: [D, 256, 10], seed: 1, device: gpu().device });
    const { model } = mlp;
    expect(3 * rows * model.layout.parameterCount).toBeGreaterThanOrEqual(MATMUL_WAIT_WORK);
    const queued: number[] = [];
    const one = model.submitStep.bind(model);
    const many = model.submitSteps.bind(model);
    model.submitStep = (...args) => {
      queued.push(model.ctx.queuedBehind);
      return one(...args);
    };
    model.submitSteps = (...args) => {
      queued.push(model.ctx.queuedBehind);
      return many(...args);
    };
    const results = await mlp.fit(x, y, { epochs: 2, batchSize: rows, optimizer: 'adam', learningRate: 1e-3 });
    expect(results).toHaveLength(2);
    expect(queued.length).toBeGreaterThan(0);
    expect(queued.every((n) => n === 0)).toBe(true);
    await mlp.destroy();
  });
});

describe('networks sharing a device', () => {
  it('a second network on a device compiles nothing the first did; destroying either leaves the other working', async () => {
    const owner = await GpuContext.create(); // a device of its own: nothing compiled on it yet
    const compiled: string[] = [];
    const compile = owner.device.createComputePipelineAsync.bind(owner.device);
    owner.device.createComputePipelineAsync = (descriptor) => {
      compiled.push(descriptor.label ?? '?');
      return compile(descriptor);
    };
    const { x, y } = data(40, 31);
    const fitOne = async () => {
      const mlp = await createMLP({ layers: [4, 8, 3], seed: 2, device: owner.device });
      const results = await mlp.fit(x, y, { epochs: 2, batchSize: 16, optimizer: 'adam', learningRate: 0.01 });
      return { mlp, loss: results.at(-1)?.trainLoss };
    };
    const first = await fitOne();
    const firstCompiles = compiled.length;
    expect(firstCompiles).toBeGreaterThan(3);
    const second = await fitOne();
    expect(compiled.length).toBe(firstCompiles);
    expect(second.loss).toBe(first.loss); // the same network, data and seed: the same bits
    await first.mlp.destroy();
    const third = await fitOne(); // the first one's context is gone; the device's pipelines are not
    expect(compiled.length).toBe(firstCompiles);
    expect(third.loss).toBe(first.loss);
    await second.mlp.destroy();
    await third.mlp.destroy();
    owner.destroy();
  });
});

describe('pipelined epochs (an epoch of a few steps: src/train/loop.ts)', () => {
  /** A run over the GPU trainer, with its events kept; `readBehind: false` runs the epochs one by one. */
  async function run(readBehind: boolean, options: { earlyStopping?: unknown; abortAt?: number } = {}) {
    const abort = new AbortController();
    const { x, y } = data(40, 21);
    const model = await Model.create({ layers: [4, 8, 3], activation: 'tanh', seed: 5, device: gpu().device });
    const train = await GpuDataset.upload(model.ctx, { images: x, labels: y, count: 40, cols: 4, classes: 3 });
    const trainer = new GpuBatchTrainer(model, train);
    const events: string[] = [];
    const checkpoints: { epoch: number; step: number; params: Float32Array }[] = [];
    const results = await fit(trainer, {
      epochs: 12,
      batchSize: 16,
      seed: 3,
      readBehind,
      learningRate: () => 0.05,
      earlyStopping: resolveEarlyStopping(options.earlyStopping, false),
      signal: abort.signal,
      onStep: (p) => {
        events.push(`progress ${p.epoch}.${p.step} ${p.loss}`);
        if (p.epoch === options.abortAt) abort.abort();
      },
      onEpoch: (e) => {
        events.push(`epoch ${e.epoch} ${e.trainLoss} ${e.trainAccuracy}`);
      },
      onCheckpoint: (c) => {
        events.push(`checkpoint ${c.epoch}.${c.step}`);
        checkpoints.push({ epoch: c.epoch, step: c.step, params: (c.state as MLPCheckpoint['state']).params });
      },
    });
    const params = await model.readParams();
    train.destroy();
    await model.destroy();
    return { results, events, checkpoints, params };
  }

  it('give the events, checkpoints and parameters of epochs run one by one, bit for bit', async () => {
    const [one, ahead] = [await run(false), await run(true)];
    expect(ahead.results.map((r) => [r.epoch, r.trainLoss])).toEqual(one.results.map((r) => [r.epoch, r.trainLoss]));
    expect(ahead.events).toEqual(one.events);
    expect(ahead.checkpoints).toEqual(one.checkpoints);
    expect(ahead.params).toEqual(one.params);
  });

  it('early stopping ends them at the same epoch, with the same parameters (what ran ahead undone)', async () => {
    for (const restoreBest of [true, false]) {
      const earlyStopping = { monitor: 'trainAccuracy', patience: 1, restoreBest };
      const [one, ahead] = [await run(false, { earlyStopping }), await run(true, { earlyStopping })];
      expect(one.results.length).toBeLessThan(12); // it did stop early
      expect(ahead.results.at(-1)?.earlyStopping).toEqual(one.results.at(-1)?.earlyStopping);
      expect(ahead.events).toEqual(one.events);
      expect(ahead.params).toEqual(one.params);
    }
  });

  it('an abort stops at the epoch whose progress saw it, the parameters those after that epoch', async () => {
    const [whole, aborted] = [await run(false), await run(true, { abortAt: 4 })];
    expect(aborted.results.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(aborted.events.at(-1)).toBe(whole.events.find((e) => e.startsWith('progress 4.')));
    // The state after epoch 4 (what the checkpoint at the start of epoch 5 holds), not what ran ahead.
    expect(aborted.params).toEqual(whole.checkpoints.find((c) => c.epoch === 5)?.params);
  });
});
