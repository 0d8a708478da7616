/**
 * Reliability, round two: each class of failure found by trying a few hundred bad inputs, kills and
 * misuses against the library, with its cases and siblings. Every case must end in a clear error
 * that names what was wrong (or in a correct result) — never a silent wrong result, a process abort
 * or a changed model after a rejected call. docs/reliability.md states the promises these keep.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/cli/files.js';
import { GpuContext } from '../../src/gpu/context.js';
import { requestGpuDevice } from '../../src/gpu/device.js';
import { loadPredictor } from '../../src/infer/mlp_predictor.js';
import { decodeCheckpoint, encodeCheckpoint, type MLPCheckpoint } from '../../src/io/checkpoint_file.js';
import { decodeModel } from '../../src/io/model_file.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { createMLP, loadMLP, type MLP } from '../../src/mlp.js';
import { mlpForwardRef } from '../../src/model/reference.js';
import { toRefParams } from '../../src/train/check.js';
import { TrainingInterrupted } from '../../src/train/loop.js';
import { useGpuContext } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';

const gpu = useGpuContext();
const dir = mkdtempSync(join(tmpdir(), 'webgpu-mlp-round2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A device with WebGPU's default limits (128 MiB per storage binding), as a small GPU would have. It
 * comes straight from an adapter, so the caller must keep `instance` (Dawn's GPU object) alive with it.
 */
async function smallDevice(): Promise<{ device: GPUDevice; ctx: GpuContext; instance: GPU }> {
  const { gpu: instance, device: unused } = await requestGpuDevice();
  unused.destroy(); // only its GPU object is needed here
  const adapter = await instance.requestAdapter();
  if (!adapter) throw new Error('no adapter');
  const device = await adapter.requestDevice(); // no raised limits
  return { device, ctx: await GpuContext.create({ device }), instance };
}

/** Three separable blobs in 2-D: [n, 2] and their classes. */
function blobs(n: number): { x: Float32Array; y: Uint32Array } {
  const x = randomArray(n * 2, 3, 0.3);
  const y = randomInts(n, 4, 3);
  for (let i = 0; i < n; i++) x[2 * i] += y[i] - 1;
  return { x, y };
}

describe('1. networks too big for the device: a clear error, or a result that is right', () => {
  it('predict splits rows so every buffer fits, and the outputs match the Float64 reference', async () => {
    const { device, ctx, instance } = await smallDevice();
    expect(device.limits.maxStorageBufferBindingSize).toBe(128 * 1024 * 1024);
    const mlp = await createMLP({ layers: [4, 40000, 2], seed: 1, device });
    const x = randomArray(1000 * 4, 5); // a [1000, 40000] activation is 160 MB: over the binding limit
    const probs = await mlp.predict(x);
    const rows = [0, 517, 999];
    const params = toRefParams(mlp.model.layout, await mlp.model.readParams());
    const picked = new Float32Array(rows.flatMap((r) => Array.from(x.subarray(4 * r, 4 * r + 4))));
    const { logits } = mlpForwardRef(mlp.model.spec, params, picked, rows.length);
    rows.forEach((r, k) => {
      const z0 = logits[2 * k] as number;
      const z1 = logits[2 * k + 1] as number;
      const p1 = 1 / (1 + Math.exp(z0 - z1));
      expect(probs[2 * r + 1]).toBeCloseTo(p1, 4);
    });
    // Training with a batch whose activations cannot be bound is refused before anything runs.
    await expect(mlp.fit(x, randomInts(1000, 6, 2), { batchSize: 1000 })).rejects.toThrow(
      /batch size 1000 is too large for this device: .* use at most 838 rows per batch/,
    );
    await mlp.destroy();
    ctx.destroy();
    device.destroy();
    expect(instance).toBeDefined(); // kept alive until here
  });

  it('parameters that cannot be bound: createMLP fails naming the buffer, its size and the limit', async () => {
    const { device, ctx, instance } = await smallDevice();
    await expect(createMLP({ layers: [784, 8192, 8192, 10], device })).rejects.toThrow(
      /layers \[784, 8192, 8192, 10\] \(73,\d{3},\d{3} parameters\): mlp\.params needs 28\d\.\d MiB, over this device's (maxBufferSize of 256|maxStorageBufferBindingSize of 128) MiB/,
    );
    expect(ctx.bytesAllocated).toBe(0);
    ctx.destroy();
    device.destroy();
    expect(instance).toBeDefined();
  });

  it('a data set that cannot be bound whole: fit and evaluate say which, how large, and what fits instead', async () => {
    const { device, ctx, instance } = await smallDevice();
    const mlp = await createMLP({ layers: [784, 16, 10], device });
    const memory = mlp.memory();
    const x = new Float32Array(50_000 * 784); // 149.5 MiB of f32 over a 128 MiB binding
    const y = new Uint32Array(50_000);
    const expected =
      /^the data set inputs \(50000 rows\): inputs\.images needs 149\.5 MiB, over this device's maxStorageBufferBindingSize of 128 MiB\. A data set is uploaded whole: give fewer rows per call .*pixels as Uint8Array/;
    await expect(mlp.fit(x, y)).rejects.toThrow(expected);
    await expect(mlp.evaluate(x, y)).rejects.toThrow(expected);
    expect(mlp.memory()).toEqual(memory);
    // The same rows as bytes fit, and predict splits its rows anyway.
    const bytes = new Uint8Array(50_000 * 784);
    expect((await mlp.evaluate(bytes, y)).predictions.length).toBe(50_000);
    await mlp.destroy();
    ctx.destroy();
    device.destroy();
    expect(instance).toBeDefined();
  });
});

describe('2. a small file cannot make us allocate gigabytes', () => {
  const huge = { layers: [1048576, 2048, 10], activations: ['relu'], head: 'softmax' };
  const small = encodeSafetensors([{ name: 'layers.0.weight', shape: [2, 2], data: new Float32Array(4) }], {
    format: 'webgpu-mlp/1',
    spec: JSON.stringify(huge),
  });
  it('a model file claiming [1048576, 2048, 10] fails on its tensors, naming the file', () => {
    expect(small.length).toBeLessThan(500);
    expect(() => decodeModel(small, 'tiny.safetensors')).toThrow(
      'tiny.safetensors: tensor layers.0.bias is missing (layers [1048576, 2048, 10] need it)',
    );
  });
  it('and so does a checkpoint file', () => {
    const file = encodeSafetensors([{ name: 'layers.0.bias', shape: [1], data: new Float32Array(1) }], {
      format: 'webgpu-mlp-checkpoint/1',
      spec: JSON.stringify(huge),
      optimizer: JSON.stringify({ kind: 'sgd' }),
      optimizerSteps: '0',
      epoch: '1',
      step: '0',
    });
    expect(() => decodeCheckpoint(file, 'tiny.ckpt')).toThrow(/tiny\.ckpt: tensor layers\.0\.weight is missing/);
  });
});

describe('3. files are written atomically', () => {
  it('a write that fails midway (file-size limit) leaves the previous file whole', () => {
    const file = join(dir, 'model.safetensors');
    writeFileAtomic(file, new Uint8Array(100).fill(7));
    // A child process limited to 4 KiB files tries to replace it with 1 MB and is stopped by SIGXFSZ.
    const source = readFileSync(new URL('../../src/cli/files.ts', import.meta.url), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    const module = join(dir, 'files.mjs');
    writeFileSync(module, js.outputText);
    const script = `import('${module}').then((m) => m.writeFileAtomic('${file}', new Uint8Array(1 << 20)))`;
    const child = spawnSync('bash', ['-c', `ulimit -f 4; ${process.execPath} -e "${script}"`], { encoding: 'utf8' });
    expect(child.status === 0, 'the limited write must fail').toBe(false);
    expect(Array.from(readFileSync(file))).toEqual(new Array(100).fill(7));
    // Without the limit, the same write replaces it whole.
    const ok = spawnSync('bash', ['-c', `${process.execPath} -e "${script}"`], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(readFileSync(file).length).toBe(1 << 20);
  });
});

describe('4. resume checks what it promises', () => {
  it('refuses epochs that would train nothing, another run (seed, batch size, data) and another architecture', async () => {
    const { x, y } = blobs(64);
    const mlp = await createMLP({ layers: [2, 6, 3], seed: 1, device: gpu().device });
    const checkpoints: MLPCheckpoint[] = [];
    await mlp.fit(x, y, { epochs: 3, batchSize: 16, seed: 2, onCheckpoint: (cp) => void checkpoints.push(cp) });
    const epoch3 = decodeCheckpoint(encodeCheckpoint(checkpoints.find((c) => c.epoch === 3) as MLPCheckpoint));
    expect(epoch3.run).toEqual({ seed: 2, batchSize: 16, rows: 64 });
    const before = await mlp.model.readParams();
    await expect(mlp.fit(x, y, { epochs: 1, batchSize: 16, seed: 2, resume: epoch3 })).rejects.toThrow(
      /epochs = 1 is invalid: the run resumes at epoch 3, step 0, past the end of a run of 1 epochs/,
    );
    await expect(mlp.fit(x, y, { epochs: 3, batchSize: 16, seed: 7, resume: epoch3 })).rejects.toThrow(
      /the checkpoint belongs to another run \(seed 2 in the checkpoint, 7 now\)/,
    );
    await expect(mlp.fit(x, y, { epochs: 3, batchSize: 8, seed: 2, resume: epoch3 })).rejects.toThrow(
      /batchSize 16 in the checkpoint, 8 now/,
    );
    await expect(
      mlp.fit(blobs(80).x, blobs(80).y, { epochs: 3, batchSize: 16, seed: 2, resume: epoch3 }),
    ).rejects.toThrow(/rows 64 in the checkpoint, 80 now/);
    const other = await createMLP({ layers: [2, 6, 4], seed: 1, device: gpu().device });
    await expect(other.fit(x, y, { epochs: 3, batchSize: 16, resume: epoch3 })).rejects.toThrow(
      /options\.resume is a checkpoint of layers \[2, 6, 3\] .*; this network is \[2, 6, 4\]/,
    );
    expect(await mlp.model.readParams()).toEqual(before); // every refusal left the model as it was
    // The same run continues, and a smaller learning rate is allowed on purpose.
    const results = await mlp.fit(x, y, { epochs: 3, batchSize: 16, seed: 2, resume: epoch3, learningRate: 1e-4 });
    expect(results.map((r) => r.epoch)).toEqual([3]);
    for (const m of [mlp, other]) await m.destroy();
  });
});

describe('5. a device whose GPU object the caller dropped keeps working', () => {
  it('trains after the GPU object is garbage-collected', async () => {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const { device } = await requestGpuDevice(); // the GPU object is dropped here
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    const mlp = await createMLP({ layers: [2, 8, 3], device });
    const { x, y } = blobs(64);
    const results = await mlp.fit(x, y, { epochs: 3, batchSize: 16, learningRate: 0.05 });
    gc();
    expect(results.at(-1)?.trainAccuracy).toBeGreaterThan(0.5);
    await mlp.destroy();
    device.destroy();
  });
});

describe("6. an application's GPU target buffers are checked", () => {
  function labelBuffer(values: number[], usage: GPUBufferUsageFlags): GPUBuffer {
    const b = gpu().device.createBuffer({ size: values.length * 4, usage: usage | GPUBufferUsage.COPY_DST });
    gpu().device.queue.writeBuffer(b, 0, Uint32Array.from(values));
    return b;
  }
  it('without COPY_SRC: refused, saying which usage to add', async () => {
    const mlp = await createMLP({ layers: [2, 4, 3], device: gpu().device });
    const buffer = labelBuffer([0, 1, 2, 1], GPUBufferUsage.STORAGE);
    await expect(mlp.evaluate(randomArray(8, 1), { buffer })).rejects.toThrow(
      /^labels: the buffer lacks GPUBufferUsage\.COPY_SRC; create it with STORAGE \| COPY_SRC usage: its values are read back/,
    );
    buffer.destroy();
    await mlp.destroy();
  });
  it('a label out of range in the buffer: named, in fit and in evaluate', async () => {
    const mlp = await createMLP({ layers: [2, 4, 3], device: gpu().device });
    const buffer = labelBuffer([0, 1, 99, 1], GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    for (const call of [
      () => mlp.evaluate(randomArray(8, 1), { buffer }),
      () => mlp.fit(randomArray(8, 1), { buffer }),
    ]) {
      await expect(call()).rejects.toThrow('labels[2] = 99 is outside 0..2');
    }
    buffer.destroy();
    await mlp.destroy();
  });
});

describe('7. one fit at a time, and a rejected fit changes nothing', () => {
  it('a second concurrent fit is refused; the first ends normally', async () => {
    const mlp = await createMLP({ layers: [2, 6, 3], device: gpu().device });
    const { x, y } = blobs(64);
    const first = mlp.fit(x, y, { epochs: 2 });
    await expect(mlp.fit(x, y)).rejects.toThrow(/fit\(\) is already running on this network/);
    expect((await first).length).toBe(2);
    await mlp.destroy();
  });
  it('a fit rejected for bad labels or settings leaves parameters and optimizer state untouched', async () => {
    const mlp = await createMLP({ layers: [2, 6, 3], device: gpu().device });
    const { x, y } = blobs(64);
    await mlp.fit(x, y, { optimizer: 'momentum', learningRate: 0.05 });
    const params = await mlp.model.readParams();
    const state = await mlp.model.readOptimizerState();
    await expect(
      mlp.fit(
        x,
        Array.from(y, (v, i) => (i === 9 ? 7 : v)),
        { optimizer: 'adam' },
      ),
    ).rejects.toThrow('labels[9] = 7 is outside 0..2');
    await expect(mlp.fit(x, y, { optimizer: 'adam', epochs: 0 })).rejects.toThrow(/options\.epochs = 0 is invalid/);
    await expect(mlp.fit(x, y, { optimizer: 'adam', learningRate: () => Number.NaN })).rejects.toThrow(
      /options\.learningRate gave NaN for epoch 2, step \d+: expected a finite number in \(0, 1000\]/,
    );
    // Callbacks, the shuffles' seed, checkpointEvery and signal: checked before anything changes too.
    await expect(mlp.fit(x, y, { optimizer: 'adam', onStep: 5 as never })).rejects.toThrow(
      'options.onStep is number: expected a function, or nothing',
    );
    await expect(mlp.fit(x, y, { optimizer: 'adam', onCheckpoint: {} as never })).rejects.toThrow(
      'options.onCheckpoint is object: expected a function, or nothing',
    );
    await expect(mlp.fit(x, y, { optimizer: 'adam', seed: -1 })).rejects.toThrow(
      'seed = -1 is invalid: expected an integer in 0..4294967295',
    );
    await expect(mlp.fit(x, y, { optimizer: 'adam', checkpointEvery: 0 })).rejects.toThrow(
      /^checkpointEvery = 0 is invalid: expected an integer in 1\.\./,
    );
    await expect(mlp.fit(x, y, { optimizer: 'adam', signal: true as never })).rejects.toThrow(
      'signal = true is invalid: expected an AbortSignal',
    );
    expect(mlp.model.optimizerConfig.kind).toBe('momentum');
    expect(await mlp.model.readParams()).toEqual(params);
    expect(await mlp.model.readOptimizerState()).toEqual(state);
    await mlp.destroy();
  });
  it('destroy() while fit or predict runs: a call that cannot finish rejects saying the network was destroyed', async () => {
    // With a device the library made (destroyed with the network) and with the application's own.
    for (const device of [undefined, gpu().device]) {
      const mlp = await createMLP({ layers: [2, 32, 3], device });
      const { x, y } = blobs(2000);
      // Destroyed once an epoch has ended, in a run far from its end (however fast the adapter).
      let started = () => {};
      const firstEpoch = new Promise<void>((resolve) => {
        started = resolve;
      });
      const fitting = mlp.fit(x, y, { epochs: 1000, batchSize: 16, progressEvery: 5, onEpoch: () => started() });
      await Promise.race([firstEpoch, fitting.catch(() => {})]);
      const predicting = mlp.predict(x).then(
        (rows) => `finished first: ${rows.length} values`,
        (error: Error) => error.message,
      );
      await mlp.destroy();
      await expect(fitting).rejects.toThrow(/destroyed/);
      expect(await predicting).toMatch(/^(finished first: 6000 values|.*destroyed.*)$/);
      expect(await predicting).not.toMatch(/lost/);
    }
  });
  it('evaluations queue instead of mixing their statistics', async () => {
    const mlp = await createMLP({ layers: [2, 6, 3], device: gpu().device });
    const { x, y } = blobs(200);
    const alone = await mlp.evaluate(x, y);
    const [a, b] = await Promise.all([mlp.evaluate(x, y), mlp.evaluate(x.subarray(0, 100), y.subarray(0, 50))]);
    expect(a).toEqual(alone);
    expect(b.predictions.length).toBe(50);
    await mlp.destroy();
  });
});

describe('8. divergence that is not NaN, and non-finite states never kept', () => {
  it('lr 100 with SGD: stopped with the rule that caught it, rolled back to finite parameters', async () => {
    const mlp = await createMLP({ layers: [2, 16, 3], activation: 'relu', device: gpu().device });
    const { x, y } = blobs(256);
    const error = await mlp.fit(x, y, { epochs: 5, optimizer: 'sgd', learningRate: 100 }).catch((e) => e);
    expect(error).toBeInstanceOf(TrainingInterrupted);
    expect(error.message).toMatch(
      /training diverged in epoch \d+, step \d+: (the loss became (NaN|Infinity)|the mean loss rose to .* over 100× (the loss of chance predictions \(1\.099\)|the loss before training \(\d\.\d+\)))/,
    );
    expect((await mlp.model.readParams()).every(Number.isFinite)).toBe(true);
    await mlp.destroy();
  });
  it('resuming from a checkpoint with NaN parameters is refused', async () => {
    const mlp = await createMLP({ layers: [2, 6, 3], device: gpu().device });
    const { x, y } = blobs(64);
    let cp: MLPCheckpoint | undefined;
    await mlp.fit(x, y, {
      onCheckpoint: (c) => {
        cp ??= c;
      },
    });
    const bad = { ...(cp as MLPCheckpoint), state: { ...(cp as MLPCheckpoint).state } };
    bad.state.params = Float32Array.from(bad.state.params, (v, i) => (i === 3 ? Number.NaN : v));
    await expect(mlp.fit(x, y, { resume: bad })).rejects.toThrow(
      /options\.resume holds a diverged state \(a parameter became NaN/,
    );
    await mlp.destroy();
  });
  it('inputs of 1e30: training stops as diverged instead of resolving with a NaN model', async () => {
    const mlp = await createMLP({ layers: [2, 6, 3], device: gpu().device });
    const x = new Float32Array(64 * 2).fill(1e30);
    const error = await mlp.fit(x, blobs(64).y, { epochs: 2, optimizer: 'adam' }).catch((e) => e);
    expect(error).toBeInstanceOf(TrainingInterrupted);
    expect((await mlp.model.readParams()).every(Number.isFinite)).toBe(true);
    await mlp.destroy();
  });
});

describe('9. plain-JavaScript misuse gets errors that name the type given and the types accepted', () => {
  let mlp: MLP;
  it('fit, predict, check and weights', async () => {
    mlp = await createMLP({ layers: [2, 4, 3], device: gpu().device });
    const x = randomArray(8, 1);
    const y = [0, 1, 2, 1];
    await expect(mlp.fit(x, null as never)).rejects.toThrow(/labels is null: expected class indices/);
    await expect(mlp.fit(undefined as never, y)).rejects.toThrow(/inputs is undefined: expected Float32Array/);
    await expect(mlp.fit(x, y, null as never)).rejects.toThrow(/options = null is invalid: expected an object/);
    await expect(mlp.predict([0, 0] as never)).rejects.toThrow(
      /inputs is number\[\]: expected .*a flat number\[\] is ambiguous/,
    );
    await expect(mlp.check(x, [0, 1, 2])).rejects.toThrow('labels has 3 entries, expected one per row (4)');
    // Float64Array and rows of numbers are converted, and give what Float32Array gives.
    const rows = [
      [0.5, -1],
      [2, 0.25],
    ];
    const asF32 = await mlp.predict(Float32Array.from(rows.flat()));
    expect(await mlp.predict(Float64Array.from(rows.flat()))).toEqual(asF32);
    expect(await mlp.predict(rows)).toEqual(asF32);
    await expect(mlp.fit(x, y, { optimizer: 'momentum', momentum: 1 })).rejects.toThrow(
      /optimizer\.momentum = 1 is invalid: expected a finite number in \[0, 1\)/,
    );
    await expect(mlp.fit(x, y, { optimizer: 'adam', momentum: 0.5 })).rejects.toThrow(
      /optimizer\.momentum = 0\.5 is invalid: expected no momentum for adam/,
    );
    await mlp.destroy();
    expect(() => mlp.weights).toThrow(/destroyed/);
  });
  it('dense targets are checked for what the head takes', async () => {
    const softmax = await createMLP({ layers: [2, 4, 3], device: gpu().device });
    const x = randomArray(4, 2);
    await expect(softmax.fit(x, Float32Array.of(5, 0, 0, 0, 1, 0))).rejects.toThrow(
      'labels[0, :] sums to 5: softmax targets are probabilities, each row summing to 1',
    );
    await expect(softmax.fit(x, Float32Array.of(Number.NaN, 0, 1, 0, 1, 0))).rejects.toThrow(
      'labels[0, 0] = NaN: targets must be finite numbers',
    );
    const sigmoid = await createMLP({ layers: [2, 4, 2], head: 'sigmoid', device: gpu().device });
    await expect(sigmoid.fit(x, Float32Array.of(0, 1, 1.5, 0))).rejects.toThrow(
      'labels[1, 0] = 1.5: sigmoid targets are probabilities in [0, 1]',
    );
    for (const m of [softmax, sigmoid]) await m.destroy();
  });
  it('createMLP and loadMLP check their options object, its keys, label and debugShaders', async () => {
    await expect(createMLP(null as never)).rejects.toThrow(
      'options = null is invalid: expected an object { layers, … }',
    );
    await expect(createMLP({ layers: [2, 3], label: 5 as never })).rejects.toThrow(
      'options.label = 5 is invalid: expected a non-empty string',
    );
    await expect(createMLP({ layers: [2, 3], debugShaders: 'yes' as never })).rejects.toThrow(
      'options.debugShaders = "yes" is invalid: expected true or false',
    );
    const mlp = await createMLP({ layers: [2, 3], device: gpu().device });
    const bytes = await mlp.save();
    await expect(mlp.fit(randomArray(4, 1), [0, 1.5])).rejects.toThrow(
      'labels[1] = 1.5 is not a class index: expected an integer in 0..2',
    );
    await mlp.destroy();
    await expect(loadMLP(bytes, { seed: 1 } as never)).rejects.toThrow(
      /^options\.seed = 1 is invalid: expected one of the known options: device, debugShaders, label, tune/,
    );
    await expect(loadMLP(bytes, 'gpu' as never)).rejects.toThrow(/^options = "gpu" is invalid: expected an object/);
    const loaded = await loadMLP(bytes, { device: gpu().device, label: 'again' });
    await loaded.destroy();
  });
  it('a device option that is not a GPUDevice is refused by name, in createMLP and loadPredictor', async () => {
    await expect(createMLP({ layers: [2, 3], device: 5 as never })).rejects.toThrow(
      /^options\.device is 5 \(number\): expected a GPUDevice \(from adapter\.requestDevice\(\)\), or nothing/,
    );
    await expect(createMLP({ layers: [2, 3], device: {} as never })).rejects.toThrow(
      /^options\.device is object: expected a GPUDevice/,
    );
    const mlp = await createMLP({ layers: [2, 3], device: gpu().device });
    const bytes = await mlp.save();
    await mlp.destroy();
    await expect(loadPredictor(bytes, { device: 'gpu' as never })).rejects.toThrow(
      /^options\.device is "gpu" \(string\): expected a GPUDevice/,
    );
    const predictor = await loadPredictor(bytes, { device: gpu().device });
    await expect(predictor.predict(Float32Array.of(1, 2) as never, null as never)).rejects.toThrow(
      'options = null is invalid: expected { output? }, or nothing',
    );
    await expect(predictor.predict(Float32Array.of(1, 2) as never, { out: 1 } as never)).rejects.toThrow(
      /^options\.out = 1 is invalid: expected one of the known options: output/,
    );
    await predictor.destroy();
    await expect(loadPredictor(bytes, null as never)).rejects.toThrow(
      'options = null is invalid: expected an object { device?, label? }, or nothing',
    );
    await expect(loadPredictor(bytes, { label: '' })).rejects.toThrow(
      'options.label = "" is invalid: expected a non-empty string',
    );
  });

  it('a Symbol or BigInt seed is named as it was given, not a TypeError or the number it prints as', async () => {
    const expected = 'is invalid: expected an integer in 0..4294967295';
    await expect(createMLP({ layers: [2, 3], device: gpu().device, seed: Symbol('s') as never })).rejects.toThrow(
      `options.seed = Symbol(s) ${expected}`,
    );
    await expect(createMLP({ layers: [2, 3], device: gpu().device, seed: 4n as never })).rejects.toThrow(
      `options.seed = 4n ${expected}`,
    );
  });

  it('null is refused for every option, as a value that went missing', async () => {
    const nullIn = (key: string) =>
      `options.${key} = null is invalid: expected a value; leave the option out for its default`;
    await expect(createMLP({ layers: [2, 3], device: gpu().device, seed: null as never })).rejects.toThrow(
      nullIn('seed'),
    );
    await expect(createMLP({ layers: [2, 3], device: null as never })).rejects.toThrow(nullIn('device'));
    const mlp = await createMLP({ layers: [2, 3], device: gpu().device });
    const before = await mlp.model.readParams();
    const x = randomArray(8, 1);
    const y = [0, 1, 2, 1];
    for (const key of ['epochs', 'batchSize', 'initialEpoch', 'progressEvery', 'validation', 'signal', 'optimizer']) {
      await expect(mlp.fit(x, y, { [key]: null } as never)).rejects.toThrow(nullIn(key));
    }
    expect(await mlp.model.readParams()).toEqual(before); // nothing trained
    await expect(mlp.predict(x as never, { output: null } as never)).rejects.toThrow(nullIn('output'));
    const bytes = await mlp.save();
    await expect(loadMLP(bytes, { tune: null } as never)).rejects.toThrow(nullIn('tune'));
    await expect(loadPredictor(bytes, { label: null } as never)).rejects.toThrow(nullIn('label'));
    // Left out, or undefined: the default.
    await mlp.fit(x, y, { epochs: undefined, batchSize: undefined });
    expect(await mlp.model.readParams()).not.toEqual(before);
    await mlp.destroy();
  });
});

describe('12. files keep their own metadata', () => {
  it("a caller's metadata cannot replace a file's own keys, and encodeCheckpoint refuses what is not a checkpoint", async () => {
    const mlp = await createMLP({ layers: [2, 3], device: gpu().device });
    await expect(mlp.save({ format: 'mine' })).rejects.toThrow(
      `metadata["format"] is the file's own: choose another key (reserved: format, spec, preprocessing)`,
    );
    await expect(mlp.save('notes' as never)).rejects.toThrow('metadata is string: expected an object of strings');
    expect(decodeModel(await mlp.save({ note: 'kept' })).metadata.note).toBe('kept');
    const checkpoints: MLPCheckpoint[] = [];
    await mlp.fit(randomArray(8, 1), [0, 1, 2, 1], { onCheckpoint: (cp) => void checkpoints.push(cp) });
    const checkpoint = checkpoints.at(-1);
    if (!checkpoint) throw new Error('no checkpoint');
    // A checkpoint without a run identity must not take one from the caller's metadata either.
    const withoutRun = { ...checkpoint, run: undefined };
    expect(() => encodeCheckpoint(withoutRun, { seed: '7' })).toThrow(/metadata\["seed"\] is the file's own/);
    expect(() => encodeCheckpoint({} as never)).toThrow(
      'encodeCheckpoint: checkpoint = {} is invalid: expected a checkpoint (from onCheckpoint',
    );
    expect(decodeCheckpoint(encodeCheckpoint(checkpoint, { note: 'kept' })).state.params).toEqual(
      checkpoint.state.params,
    );
    await mlp.destroy();
  });
});

describe('11. fit keeps the optimizer settings it is not given', () => {
  it('β1, β2 and ε can be set, and later fits keep them with the state and the step count', async () => {
    const mlp = await createMLP({ layers: [2, 4, 3], device: gpu().device });
    const { x, y } = blobs(32);
    await mlp.fit(x, y, { optimizer: 'adam', beta1: 0.8, beta2: 0.99, eps: 1e-6, batchSize: 8 });
    expect(mlp.model.steps).toBe(4);
    await mlp.fit(x, y, { batchSize: 8 });
    expect(mlp.model.optimizerConfig).toMatchObject({ kind: 'adam', beta1: 0.8, beta2: 0.99, eps: 1e-6 });
    expect(mlp.model.steps).toBe(8);
    await mlp.destroy();
  });
});
