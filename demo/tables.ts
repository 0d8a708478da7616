/**
 * The table page: a CSV, TSV, JSON or JSON-lines file dropped or picked → its columns, the target and
 * their roles → a network trained on WebGPU (the library's createMLP and fit on the table's rows, with
 * the defaults of `webgpu-mlp train`: TABLE_DEFAULTS) with live loss and accuracy → the validation
 * confusion matrix with class names, or predicted against true values → a row to edit and predict →
 * the model file (and ONNX) to download. Without WebGPU it trains on the Float64 CPU reference.
 *
 * Everything from the file (column names, categories, class names, cells) reaches the page as text:
 * textContent, Option's text, the title and dataset properties; never markup.
 */

// The samples: two files of the vega-datasets package (a devDependency), emitted by Vite as assets beside
// the page (the package's exports do not name its data files, hence the path). Nothing leaves the page's origin.
// biome-ignore lint/correctness/useImportExtensions: a Vite `?url` import of a data file
import carsUrl from '../node_modules/vega-datasets/data/cars.json?url';
// biome-ignore lint/correctness/useImportExtensions: a Vite `?url` import of a data file
import penguinsUrl from '../node_modules/vega-datasets/data/penguins.json?url';
import {
  type Cell,
  DeviceLostError,
  type EpochResult,
  type Evaluation,
  encodeTable,
  epochsFor,
  type MissingPolicy,
  type NamedPrediction,
  optimizerDefinition,
  type Preprocessing,
  readTable,
  type StepProgress,
  TABLE_DEFAULTS,
  type Table,
  type TableData,
  TableError,
  type Task,
  TrainingInterrupted,
  toOnnx,
  trainTestSplit,
} from '../src/index.js';
import { quoteName } from '../src/table/errors.js';
import { createAccuracyChart, createLossChart, legend, type Point, ScatterPlot } from './charts.js';
import {
  $,
  deviceLostNotice,
  fmt,
  fmtRate,
  formatBytes,
  formatProb,
  formatTime,
  notice,
  pct,
  setBackendBadge,
} from './page.js';
import { parseHidden } from './params.js';
import { nextFrame } from './session.js';
import { CpuTableBackend, GpuTableBackend, type TableBackend, type TableNetwork } from './table_backend.js';
import { ConfusionTable } from './views.js';

const ui = {
  backend: $('backend'),
  backendText: $('backend-text'),
  notices: $('notices'),
  drop: $('drop'),
  fileInput: $<HTMLInputElement>('file-input'),
  reading: $('reading'),
  readLabel: $('read-label'),
  readBytes: $('read-bytes'),
  readProgress: $<HTMLProgressElement>('read-progress'),
  readCancel: $<HTMLButtonElement>('read-cancel'),
  samplePenguins: $<HTMLButtonElement>('sample-penguins'),
  sampleCars: $<HTMLButtonElement>('sample-cars'),
  dataError: $('data-error'),
  dataErrorText: $('data-error-text'),
  dataErrorWhere: $('data-error-where'),
  summary: $('data-summary'),
  target: $<HTMLSelectElement>('target'),
  task: $<HTMLSelectElement>('task'),
  missing: $<HTMLSelectElement>('missing'),
  columns: $<HTMLTableElement>('columns'),
  plan: $('plan'),
  notes: $('notes'),
  hidden: $<HTMLInputElement>('hidden'),
  epochs: $<HTMLInputElement>('epochs'),
  batch: $<HTMLInputElement>('batch'),
  lr: $<HTMLInputElement>('lr'),
  validation: $<HTMLInputElement>('validation'),
  patience: $<HTMLInputElement>('patience'),
  arch: $('arch'),
  train: $<HTMLButtonElement>('train'),
  stop: $<HTMLButtonElement>('stop'),
  epoch: $('stat-epoch'),
  samples: $('stat-samples'),
  loss: $('stat-loss'),
  valLoss: $('stat-val-loss'),
  time: $('stat-time'),
  metricName: $('metric-name'),
  metric: $<HTMLOutputElement>('metric'),
  status: $('status'),
  lossLegend: $('loss-legend'),
  accLegend: $('acc-legend'),
  layout: document.querySelector<HTMLElement>('.table-layout') as HTMLElement,
  accCard: document.querySelector<HTMLElement>('.acc-card') as HTMLElement,
  resultsHint: $('results-hint'),
  confusion: $('confusion'),
  scatterWrap: $('scatter-wrap'),
  scatterCaption: $('scatter-caption'),
  metrics: $('metrics'),
  rowForm: $<HTMLFormElement>('row-form'),
  rowNext: $<HTMLButtonElement>('row-next'),
  rowHint: $('row-hint'),
  rowTruth: $('row-truth'),
  rowPrediction: $<HTMLOutputElement>('row-prediction'),
  rowConfidence: $('row-confidence'),
  rowProbs: $('row-probs'),
  downloadModel: $<HTMLButtonElement>('download-model'),
  downloadOnnx: $<HTMLButtonElement>('download-onnx'),
};

const query = new URLSearchParams(location.search);
const backendParam = query.get('backend') ?? 'auto';
/** Adam's default learning rate: what an empty field means. */
const DEFAULT_LR = Number(optimizerDefinition(TABLE_DEFAULTS.optimizer).hyper.learningRate?.default ?? 0.001);

type PageState = 'empty' | 'reading' | 'loaded' | 'ready' | 'training' | 'done' | 'failed' | 'lost';

function setStatus(state: PageState, text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

// ---- state --------------------------------------------------------------------------------------

let backend: TableBackend | undefined;
/** The file's table, and its name. */
let table: Table | undefined;
let fileName = '';
let reading: AbortController | undefined;
/** The target choices in the menu's order: one column, or the `{ input, output }` rows' outputs. */
let targetChoices: string[][] = [];
/** Each column's role, by its index in the table. */
let roles: Role[] = [];
/** The encoded rows and their split, when the choices make a valid table. */
let plan: { data: TableData; train: TableData; test: TableData | undefined } | undefined;
let network: TableNetwork | undefined;
let training: AbortController | undefined;
/** The network's preprocessing and its evaluation, once trained. */
let trained: { pre: Preprocessing; evaluation: Evaluation; epochs: number; seed: number } | undefined;
let busy = false;
let lostMessage: string | undefined;

type Role = 'input' | 'category' | 'ignore';

// ---- notices and the badge ----------------------------------------------------------------------

const badge = (kind: 'webgpu' | 'cpu' | 'lost' | 'pending', text: string) =>
  setBackendBadge(ui.backend, ui.backendText, kind, text);

// ---- reading a file -----------------------------------------------------------------------------

/** Reads a dropped or picked file a chunk at a time, with a progress bar; Cancel aborts `signal`. */
function readFile(file: File, signal: AbortSignal): Promise<Table> {
  return readTable(file, {
    name: file.name, // what messages call it; its extension tells the format
    signal,
    onProgress: ({ bytes, totalBytes = file.size, rows }) => {
      ui.readProgress.value = totalBytes ? bytes / totalBytes : 0;
      ui.readBytes.textContent = `${formatBytes(bytes)} of ${formatBytes(totalBytes)} · ${fmt.format(rows)} rows`;
    },
  });
}

/** A problem with the file: what, and where (line, row, column) when the error says. */
function showDataError(error: unknown): void {
  const e = error as Error;
  ui.dataError.hidden = false;
  ui.dataErrorText.textContent = e.message;
  const where: string[] = [];
  delete ui.dataError.dataset.line;
  delete ui.dataError.dataset.column;
  if (e instanceof TableError) {
    if (e.line !== undefined) {
      where.push(`line ${fmt.format(e.line)}`);
      ui.dataError.dataset.line = String(e.line);
    } else if (e.row !== undefined) where.push(`row ${fmt.format(e.row + 1)} (counted from 1)`);
    if (e.column !== undefined) {
      where.push(`column ${JSON.stringify(e.column)}`);
      ui.dataError.dataset.column = e.column;
    }
  }
  ui.dataErrorWhere.textContent = where.length ? `Where: ${where.join(', ')}` : '';
}

async function openFile(file: File): Promise<void> {
  if (training) return; // the drop zone is disabled while training; a drop on the page is ignored
  reading?.abort();
  const controller = new AbortController();
  reading = controller;
  clearData();
  ui.reading.hidden = false;
  ui.readLabel.textContent = `Reading ${file.name}`;
  ui.readBytes.textContent = '';
  ui.readProgress.value = 0;
  ui.drop.dataset.state = 'reading';
  setStatus('reading', `Reading ${file.name}…`);
  const t0 = performance.now();
  try {
    const read = await readFile(file, controller.signal);
    if (reading !== controller) return;
    if (read.columns.length < 2) {
      const only = read.columns[0]?.name ?? '';
      throw new TableError(
        `${file.name} has one column (${quoteName(only)}): a network needs a column to predict and at least one input column beside it. Fields are separated by commas, tabs or semicolons (found from the header line).`,
        { column: only },
      );
    }
    table = read;
    fileName = file.name;
    ui.summary.textContent = `${file.name}: ${fmt.format(read.rowCount)} rows, ${read.columns.length} columns (${formatBytes(file.size)} read in ${formatTime(performance.now() - t0)})`;
    ui.drop.dataset.state = 'loaded';
    showColumns(read);
    replan();
  } catch (error) {
    if (reading !== controller) return;
    ui.drop.dataset.state = 'failed';
    if (controller.signal.aborted) {
      setStatus('empty', `Reading ${file.name} was cancelled.`);
    } else {
      showDataError(error);
      setStatus('failed', `${file.name} cannot be read: see above.`);
    }
  } finally {
    if (reading === controller) {
      reading = undefined;
      ui.reading.hidden = true;
    }
    updateButtons();
  }
}

/**
 * The bundled samples, with the choices that make each one trainable: penguins' species from its
 * measurements, island and sex; cars' miles per gallon, the car's name ignored; rows with missing
 * values left out (both tables have some).
 */
const SAMPLES = {
  penguins: { url: penguinsUrl, name: 'penguins.json', target: 'Species', ignore: [] as string[] },
  cars: { url: carsUrl, name: 'cars.json', target: 'Miles_per_Gallon', ignore: ['Name'] },
};

/** Opens a sample as a file of the user's would be opened, then makes its choices (all can be changed). */
async function openSample(sample: (typeof SAMPLES)[keyof typeof SAMPLES]): Promise<void> {
  if (training) return;
  let file: File;
  try {
    const response = await fetch(sample.url);
    if (!response.ok)
      throw new Error(`${sample.name}: the page's server answered ${response.status} ${response.statusText}`);
    file = new File([await response.blob()], sample.name, { type: 'application/json' });
  } catch (error) {
    clearData();
    showDataError(error);
    setStatus('failed', `The sample ${sample.name} cannot be loaded: see above.`);
    return;
  }
  await openFile(file);
  const t = table;
  if (!t || fileName !== sample.name || reading) return; // it failed, or another file came first
  const target = targetChoices.findIndex((names) => names.length === 1 && names[0] === sample.target);
  if (target < 0) return;
  ui.target.value = String(target);
  ui.missing.value = 'drop';
  t.columns.forEach((c, i) => {
    if (!sample.ignore.includes(c.name)) return;
    roles[i] = 'ignore';
    (ui.columns.tBodies[0].rows[i].querySelector('select') as HTMLSelectElement).value = 'ignore';
  });
  replan();
}

/** Forgets the file: its columns, the plan, any network. */
function clearData(): void {
  table = undefined;
  plan = undefined;
  targetChoices = [];
  roles = [];
  ui.dataError.hidden = true;
  ui.summary.textContent = '';
  ui.columns.tBodies[0].replaceChildren();
  ui.target.replaceChildren(new Option('choose a file first', ''));
  ui.notes.replaceChildren();
  setPlan('empty', 'Choose a file, then the column to predict.');
  void dropNetwork();
}

// ---- columns and roles --------------------------------------------------------------------------

function showColumns(t: Table): void {
  targetChoices = [];
  const options: HTMLOptionElement[] = [new Option('choose the column to predict', '')];
  if (t.outputs.length) {
    targetChoices.push([...t.outputs]);
    options.push(new Option(`the rows' outputs: ${t.outputs.join(', ')}`, '0'));
  }
  for (const c of t.columns) {
    if (t.outputs.includes(c.name)) continue;
    targetChoices.push([c.name]);
    options.push(new Option(c.name, String(targetChoices.length - 1)));
  }
  ui.target.replaceChildren(...options);
  ui.target.value = t.outputs.length ? '0' : '';
  roles = t.columns.map(() => 'input');
  const rows = t.columns.map((c, i) => {
    const tr = document.createElement('tr');
    tr.dataset.index = String(i);
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = c.name;
    name.title = c.name;
    const kind = document.createElement('td');
    kind.textContent = c.kind === 'number' ? 'number' : 'text';
    const values = document.createElement('td');
    values.className = 'values';
    values.textContent = describeValues(c.kind, c.numbers, c.values);
    const missing = document.createElement('td');
    missing.className = 'num';
    missing.textContent = c.missing ? fmt.format(c.missing) : '–';
    const role = document.createElement('td');
    const select = document.createElement('select');
    select.className = 'role';
    select.setAttribute('aria-label', `role of column ${i + 1}`);
    const choices: [Role, string][] =
      c.kind === 'number'
        ? [
            ['input', 'number input'],
            ['category', 'category input'],
            ['ignore', 'ignored'],
          ]
        : [
            ['input', 'category input'],
            ['ignore', 'ignored'],
          ];
    select.append(...choices.map(([v, text]) => new Option(text, v)));
    select.addEventListener('change', () => {
      roles[i] = select.value as Role;
      replan();
    });
    role.append(select);
    tr.append(name, kind, values, missing, role);
    return tr;
  });
  ui.columns.tBodies[0].replaceChildren(...rows);
}

function describeValues(kind: 'number' | 'text', numbers: Float64Array | undefined, values: readonly string[]): string {
  if (kind === 'number' && numbers) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of numbers) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return lo <= hi ? `${+lo.toPrecision(6)} to ${+hi.toPrecision(6)}` : 'none';
  }
  const shown = values.slice(0, 3).join(', ');
  return `${fmt.format(values.length)} distinct${values.length ? `: ${shown}${values.length > 3 ? ', …' : ''}` : ''}`;
}

function setPlan(state: 'empty' | 'ok' | 'error', text: string): void {
  ui.plan.dataset.state = state;
  ui.plan.textContent = text;
}

/** Encodes the table with the choices made, and splits it; says what it decided, or what is wrong and where. */
function replan(): void {
  plan = undefined;
  ui.notes.replaceChildren();
  for (const tr of ui.columns.tBodies[0].rows) delete tr.dataset.problem;
  const t = table;
  if (!t) {
    updateButtons();
    return;
  }
  const target = targetChoices[Number(ui.target.value)];
  t.columns.forEach((c, i) => {
    const tr = ui.columns.tBodies[0].rows[i];
    const isTarget = !!target?.includes(c.name);
    tr.dataset.target = String(isTarget);
    const select = tr.querySelector('select') as HTMLSelectElement;
    // The target's menu says so (and is locked); another column's shows its role again.
    const targetOption = select.querySelector<HTMLOptionElement>('option[value="target"]');
    if (isTarget && !targetOption) select.append(new Option('target', 'target'));
    if (!isTarget) targetOption?.remove();
    select.value = isTarget ? 'target' : roles[i];
    select.disabled = isTarget || !!training;
  });
  if (ui.target.value === '' || !target) {
    setPlan('empty', 'Choose the column to predict.');
    if (!training) setStatus('loaded', 'Choose the column to predict.');
    updateButtons();
    return;
  }
  const names = t.columns.map((c) => c.name);
  const validation = Number(ui.validation.value) / 100;
  try {
    const data = encodeTable(t, {
      target,
      ignore: names.filter((n, i) => roles[i] === 'ignore' && !target.includes(n)),
      categorical: names.filter((n, i) => roles[i] === 'category' && !target.includes(n)),
      task: (ui.task.value || undefined) as Task | undefined,
      missing: ui.missing.value as MissingPolicy,
    });
    let train = data;
    let test: TableData | undefined;
    if (validation > 0) ({ train, test } = trainTestSplit(data, { testSize: validation, seed: TABLE_DEFAULTS.seed }));
    plan = { data, train, test };
    const what =
      data.task === 'classification'
        ? `classification into ${data.outputs.length} classes (${data.outputs.join(', ')})`
        : `regression of ${data.outputs.join(', ')}`;
    setPlan(
      'ok',
      `${what}; ${data.columns.length} columns → ${data.features.length} inputs; ${fmt.format(train.rows)} training rows${test ? `, ${fmt.format(test.rows)} validation rows${data.task === 'classification' ? ' (stratified)' : ''}` : ''}.`,
    );
    ui.notes.replaceChildren(
      ...data.notes.map((n) => {
        const li = document.createElement('li');
        li.textContent = n;
        return li;
      }),
    );
    if (!training && !trained) setStatus('ready', 'Ready: press Train.');
  } catch (error) {
    const e = error as Error;
    setPlan('error', e.message);
    if (e instanceof TableError && e.column !== undefined) {
      const i = names.indexOf(e.column);
      if (i >= 0) ui.columns.tBodies[0].rows[i].dataset.problem = 'true';
    }
    if (!training) setStatus('loaded', 'The table needs another choice: see "What to predict".');
  }
  describeConfig();
}

// ---- training settings --------------------------------------------------------------------------

interface TrainConfig {
  hidden: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
}

function readConfig(): TrainConfig | { error: string } {
  const hidden = parseHidden(ui.hidden.value);
  if (!hidden) return { error: 'hidden layers: widths 1–4096, comma-separated (at most 6), e.g. 64 or 64, 32' };
  const batchSize = Number(ui.batch.value);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 65536)
    return { error: 'batch size: an integer in 1..65536' };
  const lr = ui.lr.value === '' ? DEFAULT_LR : Number(ui.lr.value);
  if (!(lr > 0 && lr <= 10)) return { error: 'learning rate: a number in (0, 10]' };
  const validation = Number(ui.validation.value);
  if (!(validation >= 0 && validation <= 50)) return { error: 'validation: a share of the rows from 0 to 50%' };
  const patience = Number(ui.patience.value);
  if (!Number.isInteger(patience) || patience < 0)
    return { error: 'early stopping: a whole number of epochs, 0 for none' };
  const rows = plan?.train.rows ?? 0;
  const auto = epochsFor(rows, batchSize);
  const epochs = ui.epochs.value === '' ? auto : Number(ui.epochs.value);
  if (!Number.isInteger(epochs) || epochs < 1 || epochs > 10000) return { error: 'epochs: an integer in 1..10000' };
  return { hidden, epochs, batchSize, learningRate: lr, patience };
}

function describeConfig(): void {
  ui.epochs.placeholder = plan ? `auto: ${epochsFor(plan.train.rows, Number(ui.batch.value) || 1)}` : 'auto';
  const c = readConfig();
  if ('error' in c) {
    ui.arch.textContent = c.error;
    ui.arch.dataset.invalid = 'true';
  } else if (plan) {
    const layers = [plan.data.features.length, ...c.hidden, plan.data.outputs.length];
    ui.arch.textContent = `${layers.join(' → ')} ReLU, ${plan.data.head === 'softmax' ? 'softmax' : 'mean squared error'}; Adam; up to ${c.epochs} epochs${plan.test && c.patience ? `, early stopping after ${c.patience}` : ''}`;
    ui.arch.dataset.invalid = 'false';
  } else {
    ui.arch.textContent = '';
    ui.arch.dataset.invalid = 'false';
  }
  updateButtons();
}

const configInputs = [ui.hidden, ui.epochs, ui.batch, ui.lr, ui.validation, ui.patience];

function updateButtons(): void {
  const running = !!training;
  const valid = !('error' in readConfig());
  ui.train.disabled = running || busy || !backend || !plan || !valid;
  ui.train.textContent = trained ? 'Train again' : 'Train';
  ui.stop.disabled = !running;
  for (const el of [...configInputs, ui.target, ui.task, ui.missing]) el.disabled = running || !table;
  for (const el of configInputs) el.disabled = running;
  ui.fileInput.disabled = running;
  ui.samplePenguins.disabled = running;
  ui.sampleCars.disabled = running;
  ui.drop.toggleAttribute('aria-disabled', running);
  ui.downloadModel.disabled = running || !trained;
  ui.downloadOnnx.disabled = running || !trained;
  ui.rowNext.disabled = running || !trained || !plan;
}

// ---- charts -------------------------------------------------------------------------------------

const TRAIN_COLOR = '#64748b';
const VAL_COLOR = '#4f46e5';
const progress: Point[] = [];
const trainLoss: Point[] = [];
const valLoss: Point[] = [];
const trainAcc: Point[] = [];
const valAcc: Point[] = [];
let epochsTarget = 1;

const lossChart = createLossChart($<HTMLCanvasElement>('loss-chart'), () => epochsTarget);
const accChart = createAccuracyChart($<HTMLCanvasElement>('acc-chart'), () => epochsTarget);
const confusion = new ConfusionTable(ui.confusion);
const scatter = new ScatterPlot($<HTMLCanvasElement>('scatter'));

function redrawCharts(): void {
  const style = (points: Point[]) => (points.length <= 40 ? 'dots' : 'line');
  lossChart.series = [
    { color: '#94a3b8', points: progress, style: 'faint' },
    { color: TRAIN_COLOR, points: trainLoss, style: 'line' },
    { color: VAL_COLOR, points: valLoss, style: style(valLoss) },
  ];
  accChart.series = [
    { color: TRAIN_COLOR, points: trainAcc, style: 'line' },
    { color: VAL_COLOR, points: valAcc, style: style(valAcc) },
  ];
  lossChart.invalidate();
  accChart.invalidate();
  const last = (p: Point[]) => p[p.length - 1]?.y;
  legend(ui.lossLegend, [
    [TRAIN_COLOR, 'train', last(trainLoss)?.toFixed(3)],
    [VAL_COLOR, 'validation', last(valLoss)?.toFixed(3)],
  ]);
  const acc = (v: number | undefined) => (v === undefined ? undefined : pct(v));
  legend(ui.accLegend, [
    [TRAIN_COLOR, 'train', acc(last(trainAcc))],
    [VAL_COLOR, 'validation', acc(last(valAcc))],
  ]);
}

function clearProgress(): void {
  for (const p of [progress, trainLoss, valLoss, trainAcc, valAcc]) p.length = 0;
  for (const el of [ui.epoch, ui.samples, ui.loss, ui.valLoss, ui.time]) el.textContent = '–';
  ui.metric.textContent = '–';
  delete ui.metric.dataset.value;
  redrawCharts();
}

// ---- training -----------------------------------------------------------------------------------

/** The last animation frame's time: training yields a frame when the page has gone this long without one. */
let lastFrame = 0;
const FRAME_STARVED_MS = 100;

function watchFrames(): void {
  lastFrame = performance.now();
  if (training) requestAnimationFrame(watchFrames);
}

async function dropNetwork(): Promise<void> {
  const old = network;
  network = undefined;
  trained = undefined;
  ui.rowForm.replaceChildren();
  ui.rowTruth.textContent = '';
  showPrediction(undefined);
  ui.confusion.replaceChildren();
  ui.scatterWrap.hidden = true;
  ui.metrics.textContent = '';
  ui.resultsHint.textContent = 'after training: the rows held out';
  try {
    await old?.destroy();
  } catch {
    // a network on a lost device: nothing to free
  }
}

async function train(): Promise<void> {
  const c = readConfig();
  const p = plan;
  if ('error' in c || !p || !backend || training || busy) return;
  busy = true;
  updateButtons();
  await dropNetwork();
  clearProgress();
  const { data } = p;
  const classification = data.task === 'classification';
  ui.accCard.hidden = !classification;
  ui.layout.dataset.task = data.task;
  ui.metricName.textContent = classification ? 'Validation accuracy' : 'Validation R²';
  if (!p.test) ui.metricName.textContent = classification ? 'Training accuracy' : 'Training R²';
  epochsTarget = c.epochs;
  const seed = TABLE_DEFAULTS.seed;
  const where = backend.kind === 'cpu' ? 'the CPU reference' : 'WebGPU';
  const controller = new AbortController();
  let results: EpochResult[] = [];
  const t0 = performance.now();
  let net: TableNetwork | undefined;
  try {
    setStatus('training', `Compiling and training on ${where}…`);
    net = await backend.createNetwork({
      layers: [data.features.length, ...c.hidden, data.outputs.length],
      head: data.head,
      seed,
    });
    network = net;
    training = controller;
    busy = false;
    replan(); // the role menus lock
    updateButtons();
    watchFrames();
    let rate = 0;
    results = await net.fit(p.train, {
      epochs: c.epochs,
      batchSize: c.batchSize,
      learningRate: c.learningRate,
      seed,
      validation: p.test,
      patience: c.patience,
      progressEvery: 25,
      signal: controller.signal,
      onStep: (s: StepProgress) => {
        progress.push({ x: s.epoch - 1 + s.step / s.stepsPerEpoch, y: s.loss });
        rate = rate ? 0.8 * rate + 0.2 * s.samplesPerSecond : s.samplesPerSecond;
        ui.epoch.textContent = `${s.epoch} / ${c.epochs}`;
        ui.samples.textContent = fmtRate(rate);
        ui.time.textContent = formatTime(performance.now() - t0);
        redrawCharts();
      },
      onEpoch: async (e: EpochResult) => {
        trainLoss.push({ x: e.epoch, y: e.trainLoss });
        if (classification) trainAcc.push({ x: e.epoch, y: e.trainAccuracy });
        if (e.testLoss !== undefined) valLoss.push({ x: e.epoch, y: e.testLoss });
        if (e.testAccuracy !== undefined && classification) valAcc.push({ x: e.epoch, y: e.testAccuracy });
        ui.epoch.textContent = `${e.epoch} / ${c.epochs}`;
        ui.loss.textContent = e.trainLoss.toFixed(4);
        ui.valLoss.textContent = e.testLoss === undefined ? '–' : e.testLoss.toFixed(4);
        if (classification && e.testAccuracy !== undefined) ui.metric.textContent = pct(e.testAccuracy, 1);
        if (e.samplesPerSecond > 0) rate = rate ? 0.8 * rate + 0.2 * e.samplesPerSecond : e.samplesPerSecond;
        ui.samples.textContent = fmtRate(rate);
        ui.time.textContent = formatTime(performance.now() - t0);
        redrawCharts();
        setStatus('training', `Training on ${where}: epoch ${e.epoch} of at most ${c.epochs}…`);
        // The page gets a frame at least every FRAME_STARVED_MS: the charts show, clicks are heard.
        if (performance.now() - lastFrame > FRAME_STARVED_MS) await nextFrame();
      },
    });
    const evaluation = await net.evaluate(p.test ?? p.train);
    const pre = net.preprocessing;
    if (!pre) throw new Error('internal: the trained network has no preprocessing');
    const last = results.at(-1);
    trained = { pre, evaluation, epochs: last?.epoch ?? 0, seed };
    showResults(p, evaluation);
    buildRowForm(p, pre);
    const stopped = last?.earlyStopping;
    const how = controller.signal.aborted
      ? ' (stopped)'
      : stopped?.stopped
        ? `; stopped early, epoch ${stopped.bestEpoch} restored (its validation loss was the lowest)`
        : '';
    setStatus(
      'done',
      `Done: ${results.length} epoch${results.length === 1 ? '' : 's'} in ${formatTime(performance.now() - t0)}${how}.`,
    );
  } catch (error) {
    if (lostMessage !== undefined || isDeviceLoss(error)) {
      setStatus('lost', 'The GPU device was lost; training stopped.');
    } else {
      const e = error as Error;
      const message = e instanceof TrainingInterrupted ? e.message.replace(/^training/, 'Training') : e.message;
      setStatus('failed', message);
      console.warn(error);
    }
  } finally {
    busy = false;
    training = undefined;
    replan();
    updateButtons();
  }
}

function isDeviceLoss(error: unknown): boolean {
  const e = error as Error & { cause?: unknown };
  return (
    e instanceof DeviceLostError ||
    e?.cause instanceof DeviceLostError ||
    /device (was |is )?lost/i.test(e?.message ?? '')
  );
}

// ---- results ------------------------------------------------------------------------------------

function showResults(p: NonNullable<typeof plan>, e: Evaluation): void {
  const rows = p.test ?? p.train;
  const which = p.test ? 'validation' : 'training';
  ui.resultsHint.textContent = `${fmt.format(rows.rows)} ${which} rows`;
  if (p.data.task === 'classification') {
    ui.scatterWrap.hidden = true;
    confusion.update(e.confusion, e.classes ?? p.data.outputs);
    ui.metrics.textContent = `accuracy ${pct(e.accuracy, 2)}, loss ${e.loss.toFixed(4)} · rows: true class, columns: predicted`;
    ui.metric.textContent = pct(e.accuracy, 2);
    ui.metric.dataset.value = String(e.accuracy);
    return;
  }
  ui.confusion.replaceChildren();
  ui.scatterWrap.hidden = false;
  const T = p.data.outputs.length;
  const outputs = e.outputs ?? new Float32Array(0);
  const truth = rows.values ?? new Float32Array(0);
  scatter.update(Array.from({ length: rows.rows }, (_, r) => ({ x: truth[r * T], y: outputs[r * T] })));
  ui.scatterCaption.textContent = `${p.data.outputs[0]}: predicted (up) against true (across), one point per ${which} row; on the dashed line the prediction is exact.`;
  const rmse = Math.sqrt(e.mse ?? Number.NaN);
  ui.metrics.textContent = `MAE ${(e.mae ?? Number.NaN).toPrecision(4)} · RMSE ${rmse.toPrecision(4)} · R² ${(e.r2 ?? Number.NaN).toFixed(4)} (in the target's units)`;
  ui.metric.textContent = (e.r2 ?? Number.NaN).toFixed(3);
  ui.metric.dataset.value = String(e.r2);
}

// ---- a row to try -------------------------------------------------------------------------------

/** The fields of the row form, one per input column of the network. */
let fields: { name: string; input: HTMLInputElement | HTMLSelectElement; numeric: boolean; imputes: boolean }[] = [];
/** Which validation row the form was filled from. */
let rowIndex = 0;
let predicting = false;
let predictAgain = false;
let lastPrediction: NamedPrediction | undefined;
let lastRow: Record<string, Cell> | undefined;

function buildRowForm(p: NonNullable<typeof plan>, pre: Preprocessing): void {
  fields = pre.inputs.map((c, i) => {
    const label = document.createElement('label');
    label.className = 'field';
    const span = document.createElement('span');
    span.textContent = c.name;
    span.title = c.name;
    let input: HTMLInputElement | HTMLSelectElement;
    const imputes = c.impute !== undefined;
    if (c.type === 'numeric') {
      const number = document.createElement('input');
      number.type = 'number';
      number.step = 'any';
      number.placeholder = imputes ? `missing: ${+Number(c.impute).toPrecision(6)}` : 'a number';
      input = number;
    } else {
      const select = document.createElement('select');
      if (imputes) select.append(new Option(`missing (${c.impute})`, ''));
      select.append(...c.categories.map((k, j) => new Option(k, String(j))));
      input = select;
    }
    input.dataset.field = String(i);
    input.addEventListener('input', () => {
      ui.rowTruth.textContent = 'edited';
      void predictRow();
    });
    label.append(span, input);
    return { name: c.name, input, numeric: c.type === 'numeric', imputes };
  });
  ui.rowForm.replaceChildren(...fields.map((f) => f.input.parentElement as HTMLElement));
  ui.rowHint.textContent = 'Edit the fields: the network predicts as you type.';
  rowIndex = 0;
  fillRow(p);
}

/** Fills the form with validation row `rowIndex` (its cells as the file has them) and predicts it. */
function fillRow(p: NonNullable<typeof plan>): void {
  const t = table;
  const pre = trained?.pre;
  if (!t || !pre) return;
  const rows = p.test ?? p.train;
  const r = rows.origin[rowIndex % rows.rows];
  const cells = t.row(r);
  fields.forEach((f, i) => {
    const cell = cells[f.name];
    const c = pre.inputs[i];
    if (f.numeric) f.input.value = typeof cell === 'number' ? String(cell) : '';
    else if (c.type === 'categorical') {
      const k = cell === null || cell === undefined ? -1 : c.categories.indexOf(String(cell));
      f.input.value = k >= 0 ? String(k) : f.imputes ? '' : '0';
    }
  });
  const truth = pre.target.columns.map((name) => `${name}: ${cells[name] ?? 'missing'}`).join(', ');
  ui.rowTruth.textContent = `${t.where(r)} — true ${truth}`;
  void predictRow();
}

/** The form as a row object (cells by column name), or the first field that is not a value. */
function readRow(): { row: Record<string, Cell> } | { error: string; field: number } {
  const pre = trained?.pre;
  const row: Record<string, Cell> = {};
  for (const [i, f] of fields.entries()) {
    const c = pre?.inputs[i];
    if (f.numeric) {
      if (f.input.value === '') {
        if (!f.imputes)
          return { error: `${f.name}: needs a number (the network was trained without missing values)`, field: i };
        row[f.name] = null;
      } else {
        const v = Number(f.input.value);
        if (!Number.isFinite(v)) return { error: `${f.name}: not a number`, field: i };
        row[f.name] = v;
      }
    } else if (c?.type === 'categorical') {
      row[f.name] = f.input.value === '' ? null : c.categories[Number(f.input.value)];
    }
  }
  return { row };
}

async function predictRow(): Promise<void> {
  if (predicting) {
    predictAgain = true;
    return;
  }
  predicting = true;
  try {
    do {
      predictAgain = false;
      const net = network;
      const read = readRow();
      for (const f of fields) f.input.removeAttribute('aria-invalid');
      if (!net || !trained) break;
      if ('error' in read) {
        fields[read.field].input.setAttribute('aria-invalid', 'true');
        showPrediction(undefined, read.error);
        break;
      }
      const [prediction] = await net.predict([read.row]);
      if (net !== network) break;
      lastRow = read.row;
      showPrediction(prediction);
    } while (predictAgain);
  } catch (error) {
    showPrediction(undefined, (error as Error).message);
  } finally {
    predicting = false;
  }
}

function showPrediction(p: NamedPrediction | undefined, problem?: string): void {
  lastPrediction = p;
  ui.rowProbs.replaceChildren();
  ui.rowConfidence.textContent = '';
  delete ui.rowPrediction.dataset.value;
  if (!p) {
    ui.rowPrediction.textContent = problem ?? '–';
    ui.rowPrediction.dataset.state = problem ? 'error' : 'empty';
    return;
  }
  ui.rowPrediction.dataset.state = 'ok';
  if ('class' in p) {
    ui.rowPrediction.textContent = p.class;
    ui.rowPrediction.dataset.value = p.class;
    ui.rowConfidence.textContent = `${formatProb(p.probability)} sure`;
    ui.rowProbs.replaceChildren(
      ...Object.entries(p.probabilities).map(([name, probability]) => {
        const row = document.createElement('div');
        row.className = 'prob';
        row.classList.toggle('is-top', name === p.class);
        const label = document.createElement('span');
        label.className = 'name';
        label.textContent = name;
        label.title = name;
        const bar = document.createElement('div');
        bar.className = 'bar';
        const fill = document.createElement('i');
        fill.style.width = `${(100 * probability).toFixed(1)}%`;
        bar.append(fill);
        const value = document.createElement('span');
        value.className = 'pct';
        value.textContent = formatProb(probability);
        row.append(label, bar, value);
        return row;
      }),
    );
  } else {
    const entries = Object.entries(p.values);
    ui.rowPrediction.textContent = entries.map(([, v]) => String(+v.toPrecision(5))).join(', ');
    ui.rowPrediction.dataset.value = String(entries[0]?.[1]);
    ui.rowConfidence.textContent = entries.map(([name]) => name).join(', ');
  }
}

// ---- downloads ----------------------------------------------------------------------------------

/** The model file, with what the command writes in its metadata (how it was trained, on what, the validation figures). */
async function modelBytes(): Promise<Uint8Array> {
  const t = trained;
  if (!network || !t) throw new Error('train a network first');
  const e = t.evaluation;
  const which = plan?.test ? 'validation' : 'training';
  const figures: Record<string, string> =
    t.pre.target.type === 'classification'
      ? { [`${which}Accuracy`]: e.accuracy.toFixed(4) }
      : { [`${which}R2`]: (e.r2 ?? Number.NaN).toFixed(4), [`${which}MAE`]: (e.mae ?? Number.NaN).toPrecision(4) };
  return network.save({
    trainedWith: 'webgpu-mlp demo (tables page)',
    data: fileName,
    epochs: String(t.epochs),
    seed: String(t.seed),
    ...figures,
  });
}

/** The data file's name without its extension, as a file name: characters file systems refuse become _. */
function stem(): string {
  const dot = fileName.lastIndexOf('.');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it replaces
  return (dot > 0 ? fileName.slice(0, dot) : fileName).replace(/[<>:"/\\|?*\u0000-\u001f]/g, '_') || 'model';
}

async function download(kind: 'model' | 'onnx'): Promise<void> {
  try {
    const bytes = await modelBytes();
    const out = kind === 'onnx' ? await toOnnx(bytes) : bytes;
    const url = URL.createObjectURL(new Blob([out as BlobPart], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${stem()}.${kind === 'onnx' ? 'onnx' : 'safetensors'}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    notice(ui.notices, 'The download failed', (error as Error).message, 'error');
  }
}

// ---- the backend --------------------------------------------------------------------------------

function onDeviceLost(message: string): void {
  lostMessage = message;
  training?.abort();
  badge('lost', 'WebGPU device lost');
  setStatus('lost', 'The GPU device was lost; training stopped.');
  updateButtons();
  deviceLostNotice(
    ui.notices,
    message,
    'The network is gone with it; your file and choices stay: start again on a new device.',
    () => void restart(),
  );
}

async function restart(): Promise<void> {
  busy = true;
  updateButtons();
  const old = backend;
  backend = undefined;
  await dropNetwork();
  try {
    old?.destroy();
  } catch {
    // the old device is gone already
  }
  await chooseBackend();
  lostMessage = undefined;
  busy = false;
  updateButtons();
  if (backend && plan) await train();
}

async function chooseBackend(): Promise<void> {
  if (backendParam !== 'cpu') {
    try {
      badge('pending', 'looking for a GPU…');
      backend = await GpuTableBackend.create(onDeviceLost);
      badge('webgpu', `WebGPU · ${backend.description}`);
      return;
    } catch (error) {
      const reason = (error as Error).message;
      if (backendParam === 'webgpu') {
        badge('lost', 'no WebGPU');
        setStatus('failed', `WebGPU was asked for (?backend=webgpu) but is unavailable: ${reason}`);
        return;
      }
      notice(
        ui.notices,
        'No WebGPU in this browser',
        `${reason} Training runs on the CPU instead, with the library's Float64 reference: exact, and fast enough for tables of a few thousand rows.`,
      );
    }
  }
  backend = new CpuTableBackend();
  badge('cpu', backend.description);
}

// ---- start --------------------------------------------------------------------------------------

function main(): void {
  ui.hidden.value = TABLE_DEFAULTS.hidden.join(', ');
  ui.batch.value = String(TABLE_DEFAULTS.batchSize);
  ui.lr.placeholder = String(DEFAULT_LR);
  ui.validation.value = String(100 * TABLE_DEFAULTS.validation);
  ui.patience.value = String(TABLE_DEFAULTS.patience);
  for (const el of configInputs) el.addEventListener('input', describeConfig);
  ui.validation.addEventListener('change', replan);
  for (const el of [ui.target, ui.task, ui.missing]) el.addEventListener('change', replan);
  ui.fileInput.addEventListener('change', () => {
    const file = ui.fileInput.files?.[0];
    if (file) void openFile(file);
    ui.fileInput.value = ''; // the same file again is a change too
  });
  // A file dropped anywhere on the page opens it (and never navigates away from the page).
  let depth = 0;
  document.addEventListener('dragenter', (e) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    depth++;
    ui.drop.classList.add('is-over');
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) ui.drop.classList.remove('is-over');
  });
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    ui.drop.classList.remove('is-over');
    const file = e.dataTransfer?.files[0];
    if (file) void openFile(file);
  });
  ui.readCancel.addEventListener('click', () => reading?.abort());
  ui.samplePenguins.addEventListener('click', () => void openSample(SAMPLES.penguins));
  ui.sampleCars.addEventListener('click', () => void openSample(SAMPLES.cars));
  ui.train.addEventListener('click', () => void train());
  ui.stop.addEventListener('click', () => training?.abort());
  ui.rowNext.addEventListener('click', () => {
    if (!plan) return;
    rowIndex++;
    fillRow(plan);
  });
  ui.rowForm.addEventListener('submit', (e) => e.preventDefault());
  ui.downloadModel.addEventListener('click', () => void download('model'));
  ui.downloadOnnx.addEventListener('click', () => void download('onnx'));
  redrawCharts();
  describeConfig();
  void chooseBackend().then(() => {
    updateButtons();
    if (!table) setStatus('empty', 'Choose a file to begin.');
  });
}

/**
 * For the end-to-end test and the curious: `webgpuMlpTables.loseDevice()` destroys the GPU device
 * behind the page's back, as a driver reset would; `row()` and `prediction()` are the row the form
 * holds and its latest prediction.
 */
(window as unknown as { webgpuMlpTables: object }).webgpuMlpTables = {
  loseDevice: () => {
    if (backend instanceof GpuTableBackend) backend.device.destroy();
  },
  row: () => lastRow && { ...lastRow },
  prediction: () => lastPrediction && structuredClone(lastPrediction),
};

main();
