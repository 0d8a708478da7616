/**
 * `npm run train`: trains an MLP on MNIST in Node (WebGPU through Dawn, or the CPU reference),
 * shows progress, evaluates on the test set after each epoch and saves the model as safetensors.
 * Every option, output path and resumed checkpoint is checked before any work starts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MNIST_CLASSES, MNIST_PIXELS, mnistDataset } from '../data/mnist.js';
import { loadMnistNode } from '../data/mnist_node.js';
import { describeAdapter } from '../gpu/adapter.js';
import { GpuContext } from '../gpu/context.js';
import { spaceOutDawnPolling } from '../gpu/polling.js';
import { decodeCheckpoint, encodeCheckpoint, type MLPCheckpoint } from '../io/checkpoint_file.js';
import { encodeModel } from '../io/model_file.js';
import { describeActivation } from '../model/activations/index.js';
import { paramLayout } from '../model/layout.js';
import { resolveSpec, specOptions } from '../model/spec.js';
import {
  findWebGpuRuntime,
  RUNTIME_ENV,
  type RuntimeRequest,
  runtimeRequest,
  type WebGpuRuntime,
} from '../node/webgpu-runtime.js';
import {
  describeOptimizer,
  HYPERPARAMETERS,
  type HyperparameterName,
  type OptimizerConfig,
  resolveOptimizer,
} from '../optim/index.js';
import { CpuBatchTrainer } from '../train/cpu.js';
import { GpuDataset } from '../train/dataset.js';
import type { Evaluation } from '../train/evaluate.js';
import { GpuBatchTrainer } from '../train/gpu_trainer.js';
import { type BatchTrainer, type EpochResult, fit, type StepProgress, TrainingInterrupted } from '../train/loop.js';
import { Model } from '../train/model.js';
import { resumeOptimizer } from '../train/resume.js';
import { DEFAULT_CLI_OPTIMIZER, parseTrainArgs, TRAIN_HELP, type TrainArgs } from './args.js';
import { checkOutputPaths, writeFileAtomic } from './files.js';
import { formatConfusion, progressLine } from './format.js';

async function main(): Promise<number> {
  let args: TrainArgs;
  let resume: MLPCheckpoint | undefined;
  let request: RuntimeRequest;
  try {
    args = parseTrainArgs(process.argv.slice(2));
    if (args.help) {
      console.log(TRAIN_HELP);
      return 0;
    }
    if (args.resume) resume = readResume(args); // first: a file that is no checkpoint is the news
    checkOutputPaths({ '--out': args.out, '--checkpoint': args.checkpoint }, args.resume);
    request = runtimeRequest(); // an unknown WEBGPU_MLP_RUNTIME is an error, whatever the backend
  } catch (error) {
    console.error(`train: ${(error as Error).message}`);
    return 2;
  }
  const spec = resume?.state.spec ?? resolveSpec({ layers: args.layers, activation: args.activation });
  const given: OptimizerConfig = {
    kind: args.optimizer ?? DEFAULT_CLI_OPTIMIZER,
    ...Object.fromEntries(Object.keys(HYPERPARAMETERS).map((k) => [k, args[k as HyperparameterName]])),
  };
  // Resuming keeps the checkpoint's optimizer; hyperparameters given (--lr…) replace its (e.g. after a divergence).
  const optimizer = resume
    ? resumeOptimizer(resume.state.optimizer, { ...given, kind: undefined }, 'resume')
    : resolveOptimizer(given);
  const out = resolve(args.out);

  const t0 = performance.now();
  const mnist = await loadMnistNode();
  const train = mnistDataset(mnist.train, args.limit);
  const test = mnistDataset(mnist.test);

  let ctx: GpuContext | undefined;
  let runtime: WebGpuRuntime | undefined;
  if (args.backend !== 'cpu') {
    try {
      // Before Dawn's first create(): a GPU, the system's SwiftShader or the packaged one (src/node/webgpu-runtime.ts).
      runtime = findWebGpuRuntime();
      if (runtime.kind === 'none') throw new Error(`no WebGPU runtime: ${runtime.problem}`);
      ctx = await GpuContext.create();
    } catch (error) {
      if (request !== 'auto' && request !== 'cpu') {
        // A runtime asked for by name that is not there is an error, never a quiet fallback.
        const message = (error as Error).message;
        const said = message.startsWith(RUNTIME_ENV)
          ? message
          : `${RUNTIME_ENV}=${request}, but no WebGPU device: ${message}`;
        console.error(`train: ${said}`);
        return 2;
      }
      if (args.backend === 'webgpu') {
        console.error(`train: --backend webgpu, but no WebGPU device: ${(error as Error).message}`);
        return 1;
      }
      console.log(`notice: no WebGPU device (${(error as Error).message})`);
      console.log(
        'notice: training on the CPU reference instead (Float64, much slower). --backend cpu skips this check.',
      );
    }
  }
  // A software adapter runs on the CPU cores that Dawn's busy polling would otherwise take.
  if (ctx?.adapter?.isSoftware) spaceOutDawnPolling();
  const backendName = ctx
    ? `WebGPU on ${ctx.adapter ? describeAdapter(ctx.adapter) : 'the given device'}`
    : 'CPU (Float64 reference)';
  const layout = paramLayout(spec);
  const activations = [...new Set(spec.activations.map(describeActivation))].join('/');
  console.log(
    `network   [${spec.layers.join(', ')}] ${activations}, softmax + cross-entropy; ${layout.parameterCount.toLocaleString('en-US')} parameters`,
  );
  console.log(
    `optimizer ${describeOptimizer(optimizer)}; batch ${args.batchSize}, ${args.epochs} epochs, seed ${args.seed}`,
  );
  console.log(
    `data      MNIST: ${train.count.toLocaleString('en-US')} training, ${test.count.toLocaleString('en-US')} test images`,
  );
  console.log(`backend   ${backendName}`);
  if (ctx && runtime) console.log(`runtime   ${runtime.summary}`);
  if (resume) {
    console.log(
      `resume    ${args.resume}: epoch ${resume.epoch}, step ${resume.step} (${resume.state.step.toLocaleString('en-US')} steps trained); network and optimizer from the file`,
    );
    if (resume.epoch > args.epochs) {
      console.log(
        `resume    the run of ${args.epochs} epochs is finished: nothing to train; its model is evaluated and saved`,
      );
    }
  }

  let trainer: BatchTrainer;
  let model: Model | undefined;
  let cpu: CpuBatchTrainer | undefined;
  const cleanup: (() => void | Promise<void>)[] = [];
  if (ctx) {
    model = resume
      ? await Model.fromCheckpoint({ ...resume.state, optimizer }, { context: ctx })
      : await Model.create({
          ...specOptions(spec),
          seed: args.seed,
          optimizer,
          context: ctx,
        });
    const trainData = await GpuDataset.upload(ctx, train, 'mnist.train');
    const testData = await GpuDataset.upload(ctx, test, 'mnist.test');
    cleanup.push(
      () => trainData.destroy(),
      () => testData.destroy(),
      () => model?.destroy(),
      () => ctx?.destroy(),
    );
    trainer = new GpuBatchTrainer(model, trainData, testData);
  } else {
    if (resume || args.checkpoint) {
      console.error('train: --checkpoint and --resume need the WebGPU backend, and no WebGPU device was found');
      return 1;
    }
    cpu = new CpuBatchTrainer(spec, optimizer, train, test, args.seed);
    trainer = cpu;
  }

  // Ctrl-C stops at the next progress point; the model trained so far is still saved.
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    console.log('\ninterrupted: stopping after this step and saving what was trained (Ctrl-C again to quit now)');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const tty = process.stdout.isTTY === true;
  let lastQuarter = -1;
  let results: EpochResult[];
  try {
    results = await fit(trainer, {
      epochs: args.epochs,
      batchSize: args.batchSize,
      seed: args.seed,
      signal: abort.signal,
      progressEvery: ctx ? 25 : 5,
      start: resume && { epoch: resume.epoch, step: resume.step, run: resume.run, earlyStopping: resume.earlyStopping },
      checkpointEvery: args.checkpointEvery,
      onCheckpoint: args.checkpoint
        ? (cp) =>
            writeFileAtomic(
              args.checkpoint as string,
              encodeCheckpoint(cp as MLPCheckpoint, { trainedWith: 'webgpu-mlp train' }),
            )
        : undefined,
      onStep: (p: StepProgress) => {
        const line = progressLine(p, args.epochs);
        if (tty) process.stdout.write(`\r${line}`);
        else {
          const quarter = Math.floor((4 * p.step) / p.stepsPerEpoch);
          if (quarter !== lastQuarter) console.log(line);
          lastQuarter = p.step === p.stepsPerEpoch ? -1 : quarter;
        }
      },
      onEpoch: (e: EpochResult) => {
        if (tty) process.stdout.write('\n');
        console.log(
          `epoch ${String(e.epoch).padStart(String(args.epochs).length)}/${args.epochs}  train loss ${e.trainLoss.toFixed(4)}  train acc ${(100 * e.trainAccuracy).toFixed(2)}%  test loss ${e.testLoss?.toFixed(4)}  test acc ${(100 * (e.testAccuracy ?? 0)).toFixed(2)}%  ${(e.epochMs / 1000).toFixed(1)} s (${Math.round(e.samplesPerSecond).toLocaleString('en-US')} samples/s)  elapsed ${(e.elapsedMs / 1000).toFixed(1)} s`,
        );
      },
    });
  } catch (error) {
    if (error instanceof TrainingInterrupted && args.checkpoint && error.checkpoint) {
      const { epoch, step } = error.checkpoint;
      throw new Error(
        `${error.message}\nThe checkpoint of epoch ${epoch}, step ${step} is in ${args.checkpoint}: run the same command with --resume ${args.checkpoint} to continue (with a smaller --lr after a divergence).`,
      );
    }
    throw error;
  }
  process.off('SIGINT', onSigint);

  const evaluation: Evaluation = await (trainer.evaluate as () => Promise<Evaluation>)();
  console.log(
    `\ntest accuracy ${(100 * evaluation.accuracy).toFixed(2)}%, loss ${evaluation.loss.toFixed(4)}; confusion (rows: true digit, columns: predicted):`,
  );
  console.log(formatConfusion(evaluation.confusion));

  const params = model ? await model.readParams() : (cpu as CpuBatchTrainer).flatParams();
  const bytes = encodeModel(spec, params, {
    trainedWith: 'webgpu-mlp train',
    backend: backendName,
    optimizer: JSON.stringify(optimizer),
    batchSize: String(args.batchSize),
    epochs: String(results.at(-1)?.epoch ?? (resume ? resume.epoch - 1 : 0)),
    seed: String(args.seed),
    testAccuracy: evaluation.accuracy.toFixed(4),
    inputScale: String(1 / 255),
    date: new Date().toISOString(),
  });
  writeFileAtomic(out, bytes);
  console.log(
    `saved ${out} (${(bytes.length / 1e6).toFixed(2)} MB, safetensors) after ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const f of cleanup.reverse()) await f();
  return 0;
}

/** Reads --resume and checks that it can continue this command's run on MNIST. */
function readResume(args: TrainArgs): MLPCheckpoint {
  const file = args.resume as string;
  let resume: MLPCheckpoint;
  try {
    resume = decodeCheckpoint(new Uint8Array(readFileSync(file)), file);
  } catch (error) {
    throw new Error(`--resume: ${(error as Error).message}`);
  }
  const { layers } = resume.state.spec;
  if (layers[0] !== MNIST_PIXELS || layers[layers.length - 1] !== MNIST_CLASSES) {
    throw new Error(
      `--resume: ${file} is a checkpoint of layers [${layers.join(', ')}]; MNIST needs ${MNIST_PIXELS} inputs and ${MNIST_CLASSES} outputs`,
    );
  }
  if (args.optimizer !== undefined && args.optimizer !== resume.state.optimizer.kind) {
    throw new Error(
      `--resume: ${file} was trained with --optimizer ${resume.state.optimizer.kind}; leave --optimizer out or pass that`,
    );
  }
  const rows = args.limit ?? 60_000;
  const now = { seed: args.seed, batchSize: args.batchSize, rows };
  const flags = { seed: '--seed', batchSize: '--batch-size', rows: '--limit' } as const;
  for (const key of ['seed', 'batchSize', 'rows'] as const) {
    const then = resume.run?.[key];
    if (then !== undefined && then !== now[key]) {
      throw new Error(
        `--resume: ${file} belongs to a run with ${flags[key]} ${key === 'rows' && then === 60_000 ? '(all 60,000 images)' : then}; this command has ${now[key]}: give the same ${flags[key]} to continue that run`,
      );
    }
  }
  // The last checkpoint of a finished run (epoch --epochs + 1, step 0) is resumed too: its model is saved.
  if (resume.epoch > args.epochs + 1 || (resume.epoch === args.epochs + 1 && resume.step > 0)) {
    throw new Error(
      `--resume: ${file} is at epoch ${resume.epoch}, step ${resume.step}, past the end of a run of --epochs ${args.epochs}: give the run's total number of epochs (≥ ${resume.epoch})`,
    );
  }
  return resume;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`\ntrain: ${error.message || String(error)}`);
    process.exit(1);
  },
);
