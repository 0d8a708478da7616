/**
 * Reliability, round three: the classes of defect an outside corpus of about 120 bad inputs and
 * faults found against schedules, early stopping, loss weights, GPU-buffer inputs and outputs, the
 * inference entry and long runs (issue 23). Each describe block is one class; each test failed before
 * its fix. docs/reliability.md states the behaviour these hold.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { checkOutputPaths, writeFileAtomic } from '../../src/cli/files.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { requestGpuDevice } from '../../src/gpu/device.js';
import { PLAN_CACHE_BYTES, PLAN_OVERHEAD } from '../../src/gpu/plan_cache.js';
import { loadPredictor } from '../../src/infer/mlp_predictor.js';
import { decodeCheckpoint, encodeCheckpoint, type MLPCheckpoint } from '../../src/io/checkpoint_file.js';
import { decodeModel } from '../../src/io/model_file.js';
import { createMLP, loadMLP } from '../../src/mlp.js';
import { resolveSpec } from '../../src/model/spec.js';
import { resolveOptimizer } from '../../src/optim/index.js';
import { CpuBatchTrainer } from '../../src/train/cpu.js';
import {
  fit as fitLoop,
  PIPELINE_MAX_EPOCHS,
  SCHEDULE_CHECK_STEPS,
  TrainingInterrupted,
} from '../../src/train/loop.js';
import { Model } from '../../src/train/model.js';
import { resolveLearningRate, type ScheduleAt } from '../../src/train/schedule.js';
import { type ShapeTuning, setTuneCache, TuneCache, type TuneStore } from '../../src/tune/cache.js';
import { adapterKey, TUNE_VERSION } from '../../src/tune/tuner.js';
import { useGpuContext } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';

const gpu = useGpuContext();
const dir = mkdtempSync(join(tmpdir(), 'webgpu-mlp-round3-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('4. everything a file means survives load → save', () => {
  it("loadMLP then save() keeps inputScale and the file's other metadata; save's own metadata is added", async () => {
    const mlp = await createMLP({ layers: [4, 5, 3], seed: 1, device: gpu().device });
    const bytes = Uint8Array.from(randomArray(8 * 4, 3, 0.5), (v) => Math.round(Math.abs(v) * 255) % 256);
    await mlp.fit(bytes, randomInts(8, 4, 3), { batchSize: 4 });
    const saved = await mlp.save({ task: 'pixels' });
    expect(decodeModel(saved).metadata).toMatchObject({ inputScale: String(1 / 255), task: 'pixels' });
    await mlp.destroy();

    const loaded = await loadMLP(saved, { device: gpu().device });
    expect(loaded.metadata).toMatchObject({ inputScale: String(1 / 255), task: 'pixels' });
    const again = decodeModel(await loaded.save()).metadata;
    expect(again).toEqual(decodeModel(saved).metadata);
    // Later metadata joins what the file had; a key given again takes the new value.
    expect(decodeModel(await loaded.save({ task: 'digits', note: 'n' })).metadata).toMatchObject({
      inputScale: String(1 / 255),
      task: 'digits',
      note: 'n',
    });
    // Trained on floats after loading: the file still says how its inputs were scaled.
    await loaded.fit(randomArray(8 * 4, 4), randomInts(8, 5, 3), { batchSize: 4 });
    expect(decodeModel(await loaded.save()).metadata.inputScale).toBe(String(1 / 255));
    await loaded.destroy();
  });
});

describe('5. an atomic write replaces only a regular file', () => {
  it('a FIFO, a socket or a directory at the target is refused, before writing and by the path check; a link to a file is followed', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]); // a private FIFO: never a real /dev node
    const socket = join(dir, 'sock');
    const server = createServer();
    await new Promise<void>((ok) => server.listen(socket, ok));
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    try {
      for (const [path, kind] of [
        [fifo, 'a FIFO \\(named pipe\\)'],
        [socket, 'a socket'],
        [folder, 'a directory'],
      ] as const) {
        expect(() => writeFileAtomic(path, new Uint8Array(8))).toThrow(
          new RegExp(`^cannot write .*: it is ${kind}, not a regular file: it is never replaced`),
        );
        expect(lstatSync(path).isFile(), `${path} left as it was`).toBe(false);
        if (path !== folder) {
          expect(() => checkOutputPaths({ '--checkpoint': path })).toThrow(
            new RegExp(`^--checkpoint .* is ${kind}, not a regular file`),
          );
        }
      }
      expect(statSync(fifo).isFIFO()).toBe(true);
      expect(statSync(socket).isSocket()).toBe(true);
    } finally {
      server.close();
    }
    // A symbolic link to a regular file: the file is replaced, the link stays a link.
    const real = join(dir, 'real.bin');
    writeFileSync(real, 'old');
    const link = join(dir, 'link.bin');
    symlinkSync(real, link);
    writeFileAtomic(link, new TextEncoder().encode('new'));
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('new');
    // A link to a FIFO is the FIFO.
    const toFifo = join(dir, 'to-pipe');
    symlinkSync(fifo, toFifo);
    expect(() => writeFileAtomic(toFifo, new Uint8Array(1))).toThrow(/it is a FIFO/);
  });
});

describe('10. output a person can read', () => {
  it('an uncaught TrainingInterrupted prints its message and stack, not the checkpoint; the checkpoint is still there', async () => {
    const mlp = await createMLP({ layers: [16, 64, 3], seed: 1, device: gpu().device });
    const x = new Float32Array(64 * 16).fill(1e30);
    const error = await mlp.fit(x, randomInts(64, 2, 3), { epochs: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingInterrupted);
    const interrupted = error as TrainingInterrupted;
    expect(interrupted.checkpoint?.state).toBeDefined(); // 1,283 parameters and Adam's m and v
    expect(Object.keys(interrupted)).not.toContain('checkpoint');
    const printed = inspect(interrupted); // what Node prints for an uncaught error
    expect(printed).toContain(interrupted.message);
    expect(printed.length).toBeLessThan(3000);
    await mlp.destroy();
  });
});

describe('7. errors that say what happened', () => {
  it('loadPredictor, loadMLP and decodeCheckpoint take an ArrayBuffer, a Buffer or a DataView, and refuse other types by name', async () => {
    const mlp = await createMLP({ layers: [3, 4, 2], seed: 1, device: gpu().device });
    const checkpoints: MLPCheckpoint[] = [];
    await mlp.fit(randomArray(12, 1), [0, 1, 1, 0], { onCheckpoint: (cp) => void checkpoints.push(cp) });
    const model = await mlp.save();
    const x = randomArray(6, 2);
    const expected = await mlp.predict(x);
    // What `await response.arrayBuffer()` gives: the file alone, and a view into a larger buffer.
    const arrayBuffer = model.slice().buffer;
    const padded = new Uint8Array(model.length + 16);
    padded.set(model, 8);
    for (const bytes of [arrayBuffer, Buffer.from(model), new DataView(padded.buffer, 8, model.length)]) {
      const predictor = await loadPredictor(bytes, { device: gpu().device });
      expect(await predictor.predict(x)).toEqual(expected);
      await predictor.destroy();
      const loaded = await loadMLP(bytes, { device: gpu().device });
      expect(await loaded.predict(x)).toEqual(expected);
      await loaded.destroy();
    }
    const checkpoint = encodeCheckpoint(checkpoints.at(-1) as MLPCheckpoint);
    expect(decodeCheckpoint(checkpoint.slice().buffer).state.params).toEqual(checkpoints.at(-1)?.state.params);
    const refusal =
      /^model file: the bytes given are "abc" \(string\): expected the file's bytes, as Uint8Array \(or Node Buffer\), ArrayBuffer \(response\.arrayBuffer\(\)\) or DataView$/;
    await expect(loadPredictor('abc' as never)).rejects.toThrow(refusal);
    await expect(loadMLP('abc' as never)).rejects.toThrow(refusal);
    expect(() => decodeCheckpoint([1, 2] as never)).toThrow(
      /^checkpoint file: the bytes given are number\[\]: expected/,
    );
    await mlp.destroy();
  });

  it('a learning-rate function that returns a Promise (an async function) is named as such, before any step', async () => {
    const mlp = await createMLP({ layers: [2, 3, 2], device: gpu().device });
    const before = await mlp.model.readParams();
    await expect(
      mlp.fit(randomArray(8, 1), [0, 1, 1, 0], { learningRate: (async () => 0.1) as never }),
    ).rejects.toThrow(
      /^options\.learningRate gave a Promise for epoch 1, step 0: a schedule must return the rate itself, at once \(not an async function\)$/,
    );
    expect(await mlp.model.readParams()).toEqual(before);
    await mlp.destroy();
  });

  it("corrupted records in the tune store are dropped with a notice, and tune: 'cached' trains with the default kernels", async () => {
    /** The test's device as a context with a tune cache of its own. */
    const contextWith = (cache: TuneCache): GpuContext => {
      const ctx = Object.create(gpu()) as GpuContext;
      setTuneCache(ctx, cache);
      return ctx;
    };
    const spec = { layers: [4, 6, 3], seed: 3 };
    const probe = await Model.create({ ...spec, context: contextWith(new TuneCache(null)), tune: 'cached' });
    const shapes = ((await probe.plan(8, 'labels')).tuning?.shapes ?? []).map((s) => s.shape);
    await probe.destroy();
    expect(shapes.length).toBeGreaterThanOrEqual(4);
    const corrupt: unknown[] = [
      { pick: { variant: 'bogus', fuseBiasGrad: false } },
      42,
      { pick: { variant: 'vec4', fuseBiasGrad: true } }, // a real variant, but not for this shape
      { shape: 'no pick' },
      { pick: { variant: 'direct', fuseBiasGrad: 'yes' } },
    ];
    const records = Object.fromEntries(
      shapes.map((shape, i) => [`${adapterKey(gpu())}|${shape}|v${TUNE_VERSION}`, corrupt[i % corrupt.length]]),
    );
    let saved: Record<string, ShapeTuning> | undefined;
    const store: TuneStore = {
      load: async () => records as Record<string, ShapeTuning>,
      save: async (entries) => {
        saved = entries;
      },
      clear: async () => {},
    };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const tuned = await Model.create({ ...spec, context: contextWith(new TuneCache(store)), tune: 'cached' });
      const plan = await tuned.plan(8, 'labels');
      expect(plan.tuning?.shapes.every((s) => s.source === 'default')).toBe(true);
      const notices = warn.mock.calls.map((c) => String(c[0]));
      expect(notices.length).toBe(shapes.length);
      expect(notices[0]).toMatch(
        /^webgpu-mlp: a saved tuning record was unusable and is dropped \(.*: its pick: variant = 'bogus'/,
      );
      expect(saved).toEqual({}); // the store rewritten without them
      // The step trains exactly as an untuned model's.
      const plain = await Model.create({ ...spec, context: gpu() });
      const x = randomArray(8 * 4, 4);
      const labels = { kind: 'labels', labels: randomInts(8, 5, 3) } as const;
      for (const m of [tuned, plain]) await m.step(x, labels);
      expect(await tuned.readParams()).toEqual(await plain.readParams());
      for (const m of [tuned, plain]) await m.destroy();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('2. a refused fit has changed nothing: the whole checkpoint is checked first', () => {
  it('an optimizer state shorter than the parameters, a NaN step count, a bad position or early stopping state: refused, the network as it was', async () => {
    const mlp = await createMLP({ layers: [3, 5, 2], seed: 1, device: gpu().device });
    const x = randomArray(16 * 3, 1);
    const y = randomInts(16, 2, 2);
    const checkpoints: MLPCheckpoint[] = [];
    await mlp.fit(x, y, { epochs: 2, batchSize: 4, optimizer: 'adam', onCheckpoint: (c) => void checkpoints.push(c) });
    const good = checkpoints[1] as MLPCheckpoint; // after epoch 1
    const other = await createMLP({ layers: [3, 5, 2], seed: 9, device: gpu().device });
    await other.fit(x, y, { epochs: 1, batchSize: 4, optimizer: 'momentum' });
    const before = {
      params: await other.model.readParams(),
      state: await other.model.readOptimizerState(),
      optimizer: other.model.optimizerConfig,
    };
    const withState = (change: Partial<MLPCheckpoint['state']>): MLPCheckpoint => ({
      ...good,
      state: { ...good.state, ...change },
    });
    const floats = good.state.params.length;
    for (const [bad, message] of [
      [
        withState({ state: [good.state.state[0] as Float32Array, new Float32Array(floats - 5)] }),
        /^options\.resume\.state\.state\[1\] \(v\) is \d+ floats: expected a Float32Array of \d+ floats/,
      ],
      [
        withState({ state: [good.state.state[0] as Float32Array] }),
        /holds 1 optimizer state buffers: the adam optimizer has 2 \(m, v\)/,
      ],
      [withState({ step: Number.NaN }), /^options\.resume\.state\.step = NaN is invalid: expected an integer ≥ 0/],
      [withState({ params: new Float32Array(3) }), /^options\.resume\.state\.params is 3 floats/],
      [
        withState({ optimizer: { ...good.state.optimizer, learningRate: -1 } }),
        /^options\.resume\.state\.optimizer\.learningRate = -1 is invalid/,
      ],
      [{ ...good, epoch: 0 }, /^options\.resume\.epoch = 0 is invalid: expected an integer ≥ 1/],
      [{ ...good, step: 1.5 }, /^options\.resume\.step = 1\.5 is invalid/],
      [{ ...good, run: { seed: 0, batchSize: 0, rows: 16 } }, /^options\.resume\.run\.batchSize = 0 is invalid/],
      [
        {
          ...good,
          earlyStopping: {
            settings: { monitor: 'trainLoss', patience: 0, minDelta: 0, restoreBest: true },
            best: 1,
            bestEpoch: 5,
            wait: 0,
          },
        },
        /^options\.resume\.earlyStopping\.bestEpoch = 5 is invalid: expected an integer in 0\.\.1/,
      ],
    ] as const) {
      await expect(other.fit(x, y, { epochs: 2, batchSize: 4, resume: bad as MLPCheckpoint })).rejects.toThrow(message);
      expect(await other.model.readParams()).toEqual(before.params);
      expect(await other.model.readOptimizerState()).toEqual(before.state);
      expect(other.model.optimizerConfig).toEqual(before.optimizer);
    }
    // The good one is taken, and ends as the uninterrupted run did.
    await other.fit(x, y, { epochs: 2, batchSize: 4, resume: good });
    expect(await other.model.readParams()).toEqual(await mlp.model.readParams());
    for (const m of [mlp, other]) await m.destroy();
  });
});

describe('8. no hang: what is checked before a run takes bounded time', () => {
  it('epochs: 2⁵³ − 2 with a schedule and early stopping: at most 100,000 rates asked before the first step, and the run ends when early stopping says', async () => {
    const mlp = await createMLP({ layers: [2, 4, 2], seed: 1, device: gpu().device });
    let calls = 0;
    let before: number | undefined;
    const results = await mlp.fit(randomArray(16, 1), randomInts(8, 2, 2), {
      epochs: Number.MAX_SAFE_INTEGER - 1,
      batchSize: 4,
      learningRate: () => {
        calls++;
        return 0.01;
      },
      earlyStopping: { monitor: 'trainLoss', minDelta: 1e6, restoreBest: false },
      onCheckpoint: () => {
        before ??= calls; // the first checkpoint comes before the first step
      },
    });
    expect(results.length).toBe(2);
    expect(results[1]?.earlyStopping?.stopped).toBe(true);
    expect(before).toBe(SCHEDULE_CHECK_STEPS);
    // Then each step's rate, as it is reached — by the steps submitted, and epochs of 2 steps are
    // pipelined (src/train/loop.ts): PIPELINE_MAX_EPOCHS epochs ahead of epoch 1, one more after it is
    // reported, and early stopping at epoch 2 undoes what ran ahead.
    expect(calls).toBe(SCHEDULE_CHECK_STEPS + 2 * (PIPELINE_MAX_EPOCHS + 1));
    await mlp.destroy();
  });

  it('a rate out of range past the steps checked ends the run as it is reached, with the same error and the last checkpoint', async () => {
    const spec = resolveSpec({ layers: [2, 3, 2] });
    const rows = 8;
    const x = randomArray(rows * 2, 3);
    const train = { images: x, labels: randomInts(rows, 4, 2), count: rows, cols: 2, classes: 2, scale: 1 };
    const trainer = new CpuBatchTrainer(spec, resolveOptimizer({ kind: 'sgd' }), train, undefined, 1);
    const error = await fitLoop(trainer, {
      epochs: 5,
      batchSize: 4, // 2 steps per epoch
      scheduleCheckSteps: 3,
      learningRate: resolveLearningRate(
        (at: ScheduleAt) => (at.step >= 6 ? -1 : 0.01),
        () => 0.1,
      ).schedule,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingInterrupted);
    expect((error as Error).message).toMatch(
      /^options\.learningRate gave -1 for epoch 4, step 6: expected a finite number in \(0, 1000\] \(a step past the first 3 checked before the run: asked as the run reached it\)\. The network keeps what it learned up to there; resume from the last checkpoint \(epoch 4, step 0\)/,
    );
    expect((error as TrainingInterrupted).checkpoint?.epoch).toBe(4);
    // Within the steps checked, the same rate is refused before the run, as a plain error.
    const early = await fitLoop(trainer, {
      epochs: 5,
      batchSize: 4,
      scheduleCheckSteps: 7,
      learningRate: resolveLearningRate(
        (at: ScheduleAt) => (at.step >= 6 ? -1 : 0.01),
        () => 0.1,
      ).schedule,
    }).catch((e: unknown) => e);
    expect(early).not.toBeInstanceOf(TrainingInterrupted);
    expect((early as Error).message).toMatch(/^options\.learningRate gave -1 for epoch 4, step 6: expected/);
  });
});

describe("1. an application's GPU buffers that are not usable: errors, not zeros", () => {
  const usage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  /** A buffer of the test's device holding `values`. */
  function bufferOf(
    values: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>,
    device = gpu().device,
    flags = usage(),
  ): GPUBuffer {
    const b = device.createBuffer({ size: values.byteLength, usage: flags });
    device.queue.writeBuffer(b, 0, values);
    return b;
  }

  it('predict: a destroyed, mapped or other-device input, an output that is the input or a parameter buffer, an unknown key: refused by name', async () => {
    const mlp = await createMLP({ layers: [4, 5, 3], seed: 1, device: gpu().device });
    const x = randomArray(8 * 4, 1);
    const destroyed = bufferOf(x);
    destroyed.destroy();
    await expect(mlp.predict({ buffer: destroyed, count: 8 })).rejects.toThrow(
      /^predict failed: inputs: the buffer cannot be used: it was destroyed \(/,
    );
    const mapped = gpu().device.createBuffer({
      size: x.byteLength,
      usage: GPUBufferUsage.COPY_SRC,
      mappedAtCreation: true,
    });
    await expect(mlp.predict({ buffer: mapped, count: 8 })).rejects.toThrow(
      'inputs: the buffer is mapped: unmap() it first',
    );
    mapped.unmap();
    const { device: other } = await requestGpuDevice();
    const foreign = bufferOf(x, other);
    await expect(mlp.predict({ buffer: foreign, count: 8 })).rejects.toThrow(
      /^predict failed: inputs: the buffer cannot be used: it belongs to another GPUDevice/,
    );
    other.destroy();
    // The output: not the input (each chunk would overwrite rows still to be read), not a parameter buffer.
    const input = bufferOf(x);
    await expect(mlp.predict({ buffer: input, count: 8 }, { output: input })).rejects.toThrow(
      'options.output: the buffer is also the input, which the outputs would overwrite',
    );
    const weights = await mlp.model.readParams();
    const own = mlp.weights[0]?.weight.buffer as GPUBuffer;
    await expect(mlp.predict({ buffer: input, count: 8 }, { output: own })).rejects.toThrow(
      /^options\.output: the buffer is the network's own mlp\.params: pass a buffer of yours/,
    );
    await expect(mlp.predict({ buffer: own, count: 1 })).rejects.toThrow(/^inputs: the buffer is the network's own/);
    expect(await mlp.model.readParams()).toEqual(weights);
    // { buffer, count, offset }: refused, not rows 0..count−1 predicted in its stead.
    await expect(mlp.predict({ buffer: input, count: 4, offset: 64 } as never)).rejects.toThrow(
      /^inputs\.offset is not taken: give \{ buffer, count \}/,
    );
    // A usable buffer still gives what the host form gives.
    const out = await mlp.predict({ buffer: input, count: 8 });
    const back = await gpu().readF32(out);
    expect(back).toEqual(await mlp.predict(x));
    for (const b of [input, out, mapped]) b.destroy();
    await mlp.destroy();
  });

  it('fit and evaluate: a destroyed input, labels or sampleWeights buffer is refused by name before anything changes', async () => {
    const mlp = await createMLP({ layers: [4, 5, 3], seed: 1, device: gpu().device });
    await mlp.fit(randomArray(16 * 4, 2), randomInts(16, 3, 3), { batchSize: 8 });
    const before = { params: await mlp.model.readParams(), steps: mlp.model.steps };
    const x = bufferOf(randomArray(16 * 4, 4));
    const y = bufferOf(randomInts(16, 5, 3));
    const w = bufferOf(new Float32Array(16).fill(1));
    x.destroy();
    await expect(mlp.fit({ buffer: x, count: 16 }, randomInts(16, 5, 3), { batchSize: 8 })).rejects.toThrow(
      /^inputs: the buffer cannot be used: it was destroyed/,
    );
    await expect(mlp.evaluate({ buffer: x, count: 16 }, randomInts(16, 5, 3))).rejects.toThrow(
      /^inputs: the buffer cannot be used: it was destroyed/,
    );
    y.destroy();
    await expect(mlp.fit(randomArray(16 * 4, 4), { buffer: y })).rejects.toThrow(
      /^labels: the buffer cannot be used: it was destroyed/,
    );
    w.destroy();
    await expect(
      mlp.fit(randomArray(16 * 4, 4), randomInts(16, 5, 3), { sampleWeights: { buffer: w } }),
    ).rejects.toThrow(/^options\.sampleWeights: the buffer cannot be used: it was destroyed/);
    await expect(mlp.fit({ buffer: mlp.model.params, count: 1 }, [0])).rejects.toThrow(
      /^inputs: the buffer is the network's own mlp\.params/,
    );
    expect(await mlp.model.readParams()).toEqual(before.params);
    expect(mlp.model.steps).toBe(before.steps);
    await mlp.destroy();
  });

  it('fit: an input buffer destroyed while the run goes on ends it with TrainingInterrupted naming it, rolled back to the last checkpoint', async () => {
    const mlp = await createMLP({ layers: [4, 5, 3], seed: 1, device: gpu().device });
    const x = bufferOf(randomArray(64 * 4, 6));
    let destroyedAt: number | undefined;
    const error = await mlp
      .fit({ buffer: x, count: 64 }, randomInts(64, 7, 3), {
        epochs: 3,
        batchSize: 4,
        progressEvery: 4,
        onStep: (p) => {
          if (p.epoch === 2 && destroyedAt === undefined) {
            destroyedAt = p.step;
            x.destroy();
          }
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingInterrupted);
    const interrupted = error as TrainingInterrupted;
    expect(interrupted.message).toMatch(
      /^a training step failed: inputs: the buffer cannot be used: it was destroyed .*The network was rolled back to the last checkpoint \(epoch 2, step 0\)\.$/,
    );
    const state = interrupted.checkpoint?.state as MLPCheckpoint['state'];
    expect(mlp.model.steps).toBe(state.step);
    expect(await mlp.model.readParams()).toEqual(state.params);
    await mlp.destroy();
  });
});

describe("9. memory as documented: one budget for all of a network's plans, counting what they cost", () => {
  it('evaluation and prediction plans of 150 row counts each, interleaved, stay within 64 MiB together', async () => {
    const layers = [4, 1024, 2];
    const mlp = await createMLP({ layers, seed: 1, device: gpu().device });
    const base = mlp.memory().bytes;
    let peak = 0;
    let peakCost = 0;
    for (let i = 0; i < 150; i++) {
      const rows = 1 + ((i * 37) % 150);
      await mlp.predict(randomArray(rows * 4, rows));
      await mlp.evaluate(randomArray(rows * 4, rows + 1), randomInts(rows, rows, 2));
      const m = mlp.memory();
      peak = Math.max(peak, m.stepPlans.bytes + m.predictPlans.bytes, m.bytes - base);
      expect(peak).toBeLessThanOrEqual(PLAN_CACHE_BYTES); // each cache kept 64 MiB of its own before
      peakCost = Math.max(peakCost, m.stepPlans.cost + m.predictPlans.cost);
    }
    expect(peakCost).toBeLessThanOrEqual(PLAN_CACHE_BYTES);
    const m = mlp.memory();
    expect(m.stepPlans.plans).toBeGreaterThan(0);
    expect(m.predictPlans.plans).toBeGreaterThan(0);
    await mlp.destroy();
  });

  it('tiny plans count their overhead: 600 row counts of a [2, 3, 2] network keep at most 64 MiB ÷ 128 KiB plans', async () => {
    const mlp = await createMLP({ layers: [2, 3, 2], seed: 1, device: gpu().device });
    for (let rows = 1; rows <= 600; rows++) await mlp.predict(randomArray(rows * 2, rows));
    const { predictPlans } = mlp.memory();
    expect(predictPlans.cost).toBeLessThanOrEqual(PLAN_CACHE_BYTES);
    expect(predictPlans.plans).toBeLessThanOrEqual(PLAN_CACHE_BYTES / PLAN_OVERHEAD.plan);
    // Each counts its bytes, 128 KiB and 12 KiB per buffer (measured on SwiftShader: docs/reliability.md).
    expect(predictPlans.cost).toBeGreaterThanOrEqual(predictPlans.bytes + predictPlans.plans * PLAN_OVERHEAD.plan);
    await mlp.destroy();
  });
});
