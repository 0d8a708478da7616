/**
 * The MNIST page: loads the data, picks WebGPU or the CPU reference, and wires the controls,
 * the training session, the charts, the views and the drawing pad together.
 */
import {
  ACTIVATION_REGISTRY,
  ACTIVATIONS,
  type Evaluation,
  GpuContext,
  type MnistSplit,
  mnistDataset,
  OPTIMIZER_REGISTRY,
  OPTIMIZERS,
  type OptimizerKind,
  optimizerDefinition,
  paramLayout,
  resolveOptimizer,
  resolveSpec,
} from '../src/index.js';
import { type Backend, CpuBackend, GpuBackend, type Run, type RunConfig } from './backend.js';
import { createAccuracyChart, createLossChart, legend, type Point, smooth } from './charts.js';
import { loadMnist, type Mnist } from './data.js';
import { DrawingPad, saliencyImage } from './pad.js';
import {
  $,
  deviceLostNotice,
  fmt,
  fmtRate,
  formatProb,
  formatTime,
  pct,
  setBackendBadge as setBadge,
  notice as showNotice,
} from './page.js';
import { parseHidden, parseParams } from './params.js';
import { type ChunkReport, type EvaluationReport, Session, type SessionState } from './session.js';
import { ConfusionView, DigitGrid, WeightsView } from './views.js';

const params = parseParams(location.search);
/** A new optimizer's learning rate in the form: its definition's default. */
const defaultLearningRate = (kind: OptimizerKind) => optimizerDefinition(kind).hyper.learningRate?.default ?? 0.01;
/** Without WebGPU, a smaller default data set keeps the Float64 reference pleasant. */
const CPU_DEFAULT_TRAIN = 10_000;
const CPU_DEFAULT_TEST = 2_000;

const ui = {
  backend: $('backend'),
  backendText: $('backend-text'),
  notices: $('notices'),
  loading: $('loading'),
  loadingLabel: $('loading-label'),
  loadingBytes: $('loading-bytes'),
  loadingProgress: $<HTMLProgressElement>('loading-progress'),
  hidden: $<HTMLInputElement>('hidden'),
  arch: $('arch'),
  activation: $<HTMLSelectElement>('activation'),
  optimizer: $<HTMLSelectElement>('optimizer'),
  lr: $<HTMLInputElement>('lr'),
  batch: $<HTMLSelectElement>('batch'),
  epochs: $<HTMLInputElement>('epochs'),
  trainCount: $('train-count'),
  train: $<HTMLButtonElement>('train'),
  reset: $<HTMLButtonElement>('reset'),
  epoch: $('stat-epoch'),
  step: $('stat-step'),
  stepsPerSecond: $('stat-steps'),
  samplesPerSecond: $('stat-samples'),
  loss: $('stat-loss'),
  time: $('stat-time'),
  testAccuracy: $<HTMLOutputElement>('test-accuracy'),
  status: $('status'),
  lossLegend: $('loss-legend'),
  accLegend: $('acc-legend'),
  prediction: $<HTMLOutputElement>('pad-prediction'),
  confidence: $('pad-confidence'),
  probs: $('probs'),
  padHint: $('pad-hint'),
  padInput: $<HTMLCanvasElement>('pad-input'),
  showSaliency: $<HTMLInputElement>('show-saliency'),
};

// ---- notices ------------------------------------------------------------------------------------

function notice(title: string, text: string, level: 'warn' | 'error' = 'warn', action?: [string, () => void]) {
  return showNotice(ui.notices, title, text, level, action);
}

function setBackendBadge(kind: 'webgpu' | 'cpu' | 'lost' | 'pending', text: string): void {
  setBadge(ui.backend, ui.backendText, kind, text);
}

// ---- controls -----------------------------------------------------------------------------------

/** The menus list the registered activations and optimizers (the page's markup names the defaults). */
function fillMenus(): void {
  const fill = (select: HTMLSelectElement, entries: [string, string][]) => {
    const selected = select.value;
    select.replaceChildren(...entries.map(([value, title]) => new Option(title, value, false, value === selected)));
  };
  fill(
    ui.activation,
    ACTIVATIONS.map((a) => [a, ACTIVATION_REGISTRY[a].title]),
  );
  fill(
    ui.optimizer,
    OPTIMIZERS.map((k) => [k, OPTIMIZER_REGISTRY[k].title]),
  );
  const lr = OPTIMIZER_REGISTRY.sgd.hyper.learningRate;
  ui.lr.max = String(lr.max);
}

function applyParams(): void {
  fillMenus();
  if (params.hidden) ui.hidden.value = params.hidden.join(', ');
  if (params.activation) ui.activation.value = params.activation;
  if (params.optimizer) ui.optimizer.value = params.optimizer;
  ui.lr.value = String(params.learningRate ?? defaultLearningRate(ui.optimizer.value as OptimizerKind));
  if (params.batchSize) {
    if (![...ui.batch.options].some((o) => o.value === String(params.batchSize))) {
      ui.batch.add(new Option(String(params.batchSize)));
    }
    ui.batch.value = String(params.batchSize);
  }
  if (params.epochs) ui.epochs.value = String(params.epochs);
}

/** The controls as a run configuration, or a reason why they are not one. */
function readConfig(): { config: RunConfig; batchSize: number; epochs: number } | { error: string } {
  const hidden = parseHidden(ui.hidden.value);
  if (!hidden) return { error: 'hidden layers: widths 1–4096, comma-separated (at most 6), e.g. 256, 128' };
  const lr = Number(ui.lr.value);
  const epochs = Number(ui.epochs.value);
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 100) return { error: 'epochs: an integer in 1..100' };
  try {
    const spec = resolveSpec({ layers: [784, ...hidden, 10], activation: ui.activation.value as never });
    let optimizer: ReturnType<typeof resolveOptimizer>;
    try {
      optimizer = resolveOptimizer({ kind: ui.optimizer.value as OptimizerKind, learningRate: lr });
    } catch {
      const range = OPTIMIZER_REGISTRY.sgd.hyper.learningRate;
      return { error: `learning rate: a number in (${range.min}, ${range.max}]` };
    }
    return { config: { spec, optimizer, seed: params.seed }, batchSize: Number(ui.batch.value), epochs };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function describeConfig(): void {
  const c = readConfig();
  ui.hidden.setAttribute('aria-invalid', String('error' in c && c.error.startsWith('hidden')));
  if ('error' in c) {
    ui.arch.textContent = c.error;
    ui.arch.dataset.invalid = 'true';
  } else {
    const layers = c.config.spec.layers;
    ui.arch.textContent = `${layers.join(' → ')} · ${fmt.format(paramLayout(c.config.spec).parameterCount)} parameters`;
    ui.arch.dataset.invalid = 'false';
  }
  updateButtons();
}

const configInputs = [ui.hidden, ui.activation, ui.optimizer, ui.lr, ui.batch, ui.epochs];

// ---- state --------------------------------------------------------------------------------------

let mnist: Mnist | undefined;
let trainCount = 0;
let testCount = 0;
let backend: Backend | undefined;
let run: Run | undefined;
let session: Session | undefined;
/** Controls the current run was built from; a fresh run is rebuilt when they change. */
let runKey = '';
let runLayers: readonly number[] = [];
let busy = false;
let started = 0;
let trainedMs = 0;
let rateSteps = 0;
let rateSamples = 0;

const lossRaw: Point[] = [];
const accRaw: Point[] = [];
const testLoss: Point[] = [];
const testAcc: Point[] = [];

const epochsShown = () => session?.epochsTarget ?? Number(ui.epochs.value);
const lossChart = createLossChart($<HTMLCanvasElement>('loss-chart'), epochsShown);
const accChart = createAccuracyChart($<HTMLCanvasElement>('acc-chart'), epochsShown);
const TRAIN_COLOR = '#94a3b8';
const TEST_COLOR = '#4f46e5';

function redrawCharts(): void {
  lossChart.series = [
    { color: TRAIN_COLOR, points: lossRaw, style: 'faint' },
    { color: '#64748b', points: smooth(lossRaw), style: 'line' },
    { color: TEST_COLOR, points: testLoss, style: 'dots' },
  ];
  accChart.series = [
    { color: '#64748b', points: smooth(accRaw), style: 'line' },
    { color: TEST_COLOR, points: testAcc, style: 'dots' },
  ];
  lossChart.invalidate();
  accChart.invalidate();
  const last = (p: Point[]) => p[p.length - 1]?.y;
  const trainLoss = last(smooth(lossRaw));
  const trainAcc = last(smooth(accRaw));
  legend(ui.lossLegend, [
    ['#64748b', 'train', trainLoss?.toFixed(3)],
    [TEST_COLOR, 'test', last(testLoss)?.toFixed(3)],
  ]);
  legend(ui.accLegend, [
    ['#64748b', 'train', trainAcc === undefined ? undefined : pct(trainAcc)],
    [TEST_COLOR, 'test', last(testAcc) === undefined ? undefined : pct(last(testAcc))],
  ]);
}

let grid: DigitGrid | undefined;
const confusion = new ConfusionView($<HTMLCanvasElement>('confusion'));
const weightsView = new WeightsView($<HTMLCanvasElement>('weights'), $('weights-hint'));

// ---- the session --------------------------------------------------------------------------------

function setStatus(state: SessionState | 'loading' | 'lost', text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function updateButtons(): void {
  const state = session?.state;
  const valid = !('error' in readConfig());
  const ready = !!backend && !busy;
  ui.train.disabled = !ready || state === 'failed' || (state !== 'running' && state !== 'paused' && !valid);
  ui.train.textContent =
    state === 'running'
      ? 'Pause'
      : state === 'paused'
        ? 'Resume'
        : state === 'done'
          ? `Train ${ui.epochs.value} more`
          : 'Train';
  ui.reset.disabled = !ready || !session;
  const locked = !!session && session.state !== 'ready';
  for (const el of configInputs) el.disabled = locked || !backend;
}

function clearProgress(): void {
  lossRaw.length = 0;
  accRaw.length = 0;
  testLoss.length = 0;
  testAcc.length = 0;
  trainedMs = 0;
  rateSteps = 0;
  rateSamples = 0;
  for (const el of [ui.epoch, ui.step, ui.stepsPerSecond, ui.samplesPerSecond, ui.loss, ui.time]) el.textContent = '–';
  ui.testAccuracy.textContent = '–';
  delete ui.testAccuracy.dataset.value;
  redrawCharts();
}

function onChunk(r: ChunkReport): void {
  lossRaw.push({ x: r.x, y: r.loss });
  accRaw.push({ x: r.x, y: r.accuracy });
  // throughput: an average that follows changes within a second or two
  rateSteps = rateSteps ? 0.8 * rateSteps + 0.2 * r.stepsPerSecond : r.stepsPerSecond;
  rateSamples = rateSamples ? 0.8 * rateSamples + 0.2 * r.samplesPerSecond : r.samplesPerSecond;
  ui.epoch.textContent = `${r.epoch} / ${session?.epochsTarget ?? r.epoch}`;
  ui.step.textContent = `${fmt.format(r.step)} / ${fmt.format(r.stepsPerEpoch)}`;
  ui.stepsPerSecond.textContent = fmtRate(rateSteps);
  ui.samplesPerSecond.textContent = fmtRate(rateSamples);
  const l = smooth(lossRaw);
  ui.loss.textContent = l[l.length - 1].y.toFixed(3);
  ui.time.textContent = formatTime(trainedMs + (started ? performance.now() - started : 0));
  redrawCharts();
}

function onEvaluation(r: EvaluationReport): void {
  const e: Evaluation = r.evaluation;
  testLoss.push({ x: r.x, y: e.loss });
  testAcc.push({ x: r.x, y: e.accuracy });
  ui.testAccuracy.textContent = pct(e.accuracy, 2);
  ui.testAccuracy.dataset.value = String(e.accuracy);
  ui.testAccuracy.dataset.x = String(r.x);
  grid?.update(e.predictions);
  confusion.update(e.confusion);
  weightsView.update(r.weights.weights, r.weights.fanOut, runLayers.length === 2);
  redrawCharts();
  void updatePad();
}

function onState(state: SessionState, message?: string): void {
  const where = backend?.kind === 'cpu' ? 'the CPU reference' : 'WebGPU';
  if (state === 'running') {
    started = performance.now();
    setStatus(state, `Training on ${where}…`);
  } else {
    if (started) trainedMs += performance.now() - started;
    started = 0;
  }
  if (state === 'paused') setStatus(state, 'Paused. Resume to go on, or Reset to start over.');
  if (state === 'done') {
    const acc = testAcc[testAcc.length - 1]?.y;
    setStatus(
      state,
      `Done: ${session?.epochsTarget} epoch${session?.epochsTarget === 1 ? '' : 's'} in ${formatTime(trainedMs)}` +
        (acc === undefined ? '.' : `, test accuracy ${pct(acc, 2)}.`),
    );
  }
  if (state === 'failed') setStatus(state, message ?? 'Training failed.');
  updateButtons();
}

/** Makes a fresh network from the controls (destroying the old one) and evaluates it once. */
async function rebuild(): Promise<void> {
  const c = readConfig();
  if ('error' in c || !backend) return;
  busy = true;
  updateButtons();
  try {
    await session?.stop();
    session = undefined;
    await run?.destroy();
    run = undefined;
    clearProgress();
    run = await backend.createRun(c.config);
    runKey = configKey();
    runLayers = c.config.spec.layers;
    session = new Session(
      run,
      {
        batchSize: Math.min(c.batchSize, trainCount),
        epochs: c.epochs,
        seed: params.seed,
        chunkMs: backend.kind === 'webgpu' ? 80 : 24,
        evalEveryMs: backend.kind === 'webgpu' ? 1500 : 4000,
      },
      { onChunk, onEvaluation, onState },
    );
    setStatus('ready', 'Evaluating the untrained network…');
    await session.evaluate();
    setStatus('ready', 'Ready: press Train. Draw a digit at any time.');
  } catch (error) {
    setStatus('failed', `Could not build the network: ${(error as Error).message}`);
    console.warn(error);
  } finally {
    busy = false;
    updateButtons();
  }
}

function configKey(): string {
  return configInputs.map((el) => el.value).join('|');
}

async function onTrain(): Promise<void> {
  if (!session) return;
  if (session.state === 'running') return session.pause();
  if (session.state === 'ready' && configKey() !== runKey) await rebuild();
  session?.start();
  updateButtons();
}

// ---- the drawing pad ----------------------------------------------------------------------------

const pad = new DrawingPad($<HTMLCanvasElement>('pad'), (final) => {
  ui.padHint.hidden = true;
  void updatePad(final);
});
let padBusy = false;
let padDirty = false;

const probRows = Array.from({ length: 10 }, (_, digit) => {
  const row = document.createElement('div');
  row.className = 'prob';
  const label = document.createElement('span');
  label.textContent = String(digit);
  const bar = document.createElement('div');
  bar.className = 'bar';
  const fill = document.createElement('i');
  bar.append(fill);
  const value = document.createElement('span');
  value.className = 'pct';
  value.textContent = '';
  row.append(label, bar, value);
  ui.probs.append(row);
  return { row, fill, value };
});

function showProbs(probs: ArrayLike<number> | undefined, predicted?: number): void {
  probRows.forEach(({ row, fill, value }, i) => {
    const p = probs ? probs[i] : 0;
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    value.textContent = probs ? formatProb(p) : '';
    row.classList.toggle('is-top', i === predicted);
  });
  ui.prediction.textContent = predicted === undefined ? '–' : String(predicted);
  if (predicted === undefined) delete ui.prediction.dataset.value;
  else ui.prediction.dataset.value = String(predicted);
  ui.confidence.textContent = predicted === undefined || !probs ? '' : `${formatProb(probs[predicted])} sure`;
}

async function updatePad(_final = false): Promise<void> {
  if (padBusy) {
    padDirty = true;
    return;
  }
  padBusy = true;
  try {
    do {
      padDirty = false;
      const current = run;
      const input = pad.read();
      if (!input || !current) {
        showProbs(undefined);
        pad.setOverlay(undefined);
        drawInput(undefined);
        break;
      }
      let result: Awaited<ReturnType<Run['saliency']>>;
      try {
        result = await current.saliency(input.x);
      } catch (error) {
        if (current !== run) continue; // the network was replaced meanwhile
        throw error;
      }
      if (current !== run) continue;
      showProbs(result.probs, result.predicted);
      const show = ui.showSaliency.checked;
      pad.setOverlay(show ? saliencyImage(result.dx, input.x, false) : undefined, input.placement);
      drawInput(show ? saliencyImage(result.dx, input.x, true) : grey(input.x));
    } while (padDirty);
  } catch (error) {
    console.warn('demo: prediction failed', error);
  } finally {
    padBusy = false;
  }
}

function grey(x: Float32Array): ImageData {
  const img = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = x[i] * 235 + 16;
    img.data.set([v, v, v, 255], 4 * i);
  }
  return img;
}

function drawInput(img: ImageData | undefined): void {
  const g = ui.padInput.getContext('2d');
  if (!g) return;
  if (img) g.putImageData(img, 0, 0);
  else g.clearRect(0, 0, 28, 28);
}

$('clear-pad').addEventListener('click', () => {
  pad.clear();
  ui.padHint.hidden = false;
  void updatePad();
});
ui.showSaliency.addEventListener('change', () => void updatePad());

// ---- start --------------------------------------------------------------------------------------

function onDeviceLost(message: string): void {
  const old = session;
  session = undefined;
  run = undefined;
  void old?.stop();
  setBackendBadge('lost', 'WebGPU device lost');
  setStatus('lost', 'The GPU device was lost; training stopped.');
  updateButtons();
  deviceLostNotice(
    ui.notices,
    message,
    'The trained weights are gone with it; start again on a new device.',
    () => void restartBackend(),
  );
}

async function restartBackend(): Promise<void> {
  busy = true;
  updateButtons();
  const old = backend;
  backend = undefined;
  try {
    old?.destroy();
  } catch {
    // the old device is gone already
  }
  await chooseBackend();
  busy = false;
  await rebuild();
}

async function chooseBackend(): Promise<void> {
  if (!mnist) return;
  const train = mnistDataset(mnist.train, trainCount);
  const test = mnistDataset(mnist.test, testCount);
  if (params.backend !== 'cpu') {
    try {
      setBackendBadge('pending', 'looking for a GPU…');
      const ctx = await GpuContext.create({ label: 'demo.device' });
      setStatus('loading', 'Uploading MNIST to the GPU…');
      backend = await GpuBackend.create(ctx, train, test, onDeviceLost).catch((error: unknown) => {
        ctx.destroy();
        throw error;
      });
      setBackendBadge('webgpu', `WebGPU · ${backend.description}`);
      return;
    } catch (error) {
      const reason = (error as Error).message;
      if (params.backend === 'webgpu') {
        setBackendBadge('lost', 'no WebGPU');
        setStatus('failed', `WebGPU was asked for (?backend=webgpu) but is unavailable: ${reason}`);
        return;
      }
      notice(
        'No WebGPU in this browser',
        `${reason} Training runs on the CPU instead, with the library's Float64 reference: exact, but much slower${params.subset ? '.' : `, so it uses ${fmt.format(Math.min(trainCount, CPU_DEFAULT_TRAIN))} training images unless ?subset= says otherwise.`}`,
      );
    }
  }
  const cpuTrain = params.subset ?? Math.min(trainCount, CPU_DEFAULT_TRAIN);
  const cpuTest = params.test ?? Math.min(testCount, CPU_DEFAULT_TEST);
  setTrainCount(cpuTrain, cpuTest);
  backend = new CpuBackend(mnistDataset(mnist.train, cpuTrain), mnistDataset(mnist.test, cpuTest));
  setBackendBadge('cpu', backend.description);
}

function setTrainCount(train: number, test: number): void {
  trainCount = train;
  testCount = test;
  const of = (n: number, all: number) => (n < all ? `${fmt.format(n)} of ${fmt.format(all)}` : fmt.format(n));
  ui.trainCount.textContent = of(train, 60_000);
  ui.trainCount.title = `test set: ${of(test, 10_000)} images`;
}

async function main(): Promise<void> {
  applyParams();
  describeConfig();
  for (const el of configInputs) el.addEventListener('input', describeConfig);
  // A new architecture before training: build it now, so that the pad and the views show it.
  let pending: ReturnType<typeof setTimeout> | undefined;
  for (const el of [ui.hidden, ui.activation]) {
    el.addEventListener('change', () => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        if (session?.state === 'ready' && !busy && configKey() !== runKey && !('error' in readConfig())) void rebuild();
      }, 300);
    });
  }
  ui.optimizer.addEventListener('change', () => {
    ui.lr.value = String(defaultLearningRate(ui.optimizer.value as OptimizerKind));
    describeConfig();
  });
  ui.train.addEventListener('click', () => void onTrain());
  ui.reset.addEventListener('click', () => void rebuild());
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="samples"]')) {
    radio.addEventListener('change', () => grid?.setMode(radio.value as 'sample' | 'mistakes'));
  }
  if (params.ignored.length) notice('Some URL parameters were ignored', params.ignored.join('; '));
  redrawCharts();
  confusion.update(Array.from({ length: 10 }, () => new Array<number>(10).fill(0)));

  setStatus('loading', 'Downloading MNIST…');
  const mb = (n: number) => (n / 1e6).toFixed(1);
  try {
    mnist = await loadMnist(new URL('mnist/', document.baseURI), (loaded, total) => {
      ui.loadingProgress.value = loaded / total;
      ui.loadingBytes.textContent = `${mb(loaded)} of ${mb(total)} MB`;
      if (loaded >= total) ui.loadingLabel.textContent = 'Decoding MNIST';
    });
  } catch (error) {
    ui.loading.hidden = true;
    setStatus('failed', 'Could not load MNIST.');
    notice('Could not load MNIST', (error as Error).message, 'error');
    return;
  }
  ui.loading.hidden = true;
  ui.loading.dataset.decodedBy = mnist.decodedBy;
  setTrainCount(params.subset ?? mnist.train.count, params.test ?? mnist.test.count);
  grid = new DigitGrid($('samples'), hostSplit(mnist.test, testCount));
  await chooseBackend();
  if (!backend) return updateButtons();
  grid = new DigitGrid($('samples'), hostSplit(mnist.test, testCount));
  await rebuild();
  if (params.autostart) void onTrain();
}

/** The first `count` images of a split. */
function hostSplit(split: MnistSplit, count: number): MnistSplit {
  const n = Math.min(count, split.count);
  return { ...split, count: n, images: split.images.subarray(0, n * 784), labels: split.labels.subarray(0, n) };
}

/**
 * For the end-to-end test and the curious: `webgpuMlpDemo.loseDevice()` destroys the GPU device
 * behind the page's back, as a driver reset would.
 */
(window as unknown as { webgpuMlpDemo: object }).webgpuMlpDemo = {
  loseDevice: () => {
    if (backend instanceof GpuBackend) backend.ctx.device.destroy();
  },
  get state() {
    return session?.state;
  },
};

main().catch((error) => {
  setStatus('failed', (error as Error).message);
  notice('Something went wrong', (error as Error).message, 'error');
});
