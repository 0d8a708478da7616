/**
 * demo/bench.html: runs the benchmark suites of bench/ in the browser (the same code as
 * `npm run bench`), shows the table and plots, downloads the report as JSON, and opens or compares
 * earlier reports (from the page or from `npm run bench`).
 *
 * URL parameters: `?autorun=quick` (or `full`) starts a run on load; `?race=quick` (or `full`) a race
 * against TF.js (demo/race.ts).
 */

import { defaultReportPath } from '../bench/args.js';
import { MATMUL_FORMS } from '../bench/matmul.js';
import { runBench } from '../bench/run.js';
import { parseBenchReport, validateBenchReport } from '../bench/schema.js';
import { COMPARE_HEADER, figureCells, reportHeader, TABLE_HEADER } from '../bench/table.js';
import type { BenchFigure, BenchReport } from '../bench/types.js';
import { describeAdapter } from '../src/gpu/adapter.js';
import { GpuContext } from '../src/gpu/context.js';
import { tuneCacheOf } from '../src/tune/cache.js';
import { clearSavedTuning } from '../src/tune/persist.js';
import { type BarRow, drawBars, drawLines, type LineSeries } from './bench-plot.js';
import { loadMnist } from './data.js';
import { setUpRace } from './race.js';

const FORM_COLORS = ['#4f46e5', '#e4572e', '#0f9d6a'];

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`bench.html has no #${id}`);
  return el as T;
}

interface PageState {
  report: BenchReport | undefined;
  earlier: BenchReport | undefined;
  running: boolean;
}

const state: PageState = { report: undefined, earlier: undefined, running: false };

function setStatus(kind: 'idle' | 'running' | 'done' | 'failed', text: string): void {
  const s = $('status');
  s.dataset.state = kind;
  s.textContent = text;
}

function log(line: string): void {
  const pre = $('log');
  const lines = `${pre.textContent ?? ''}${line}\n`.split('\n');
  pre.textContent = lines.slice(-200).join('\n');
  pre.scrollTop = pre.scrollHeight;
}

function shortLabel(f: BenchFigure): string {
  if (f.suite === 'step') return `${f.params.model} B=${f.params.batch} GPU${f.params.tuned ? ' tuned' : ''}`;
  if (f.suite === 'step_cpu') return `${f.params.model} B=${f.params.batch} CPU Float64`;
  return f.name.replace(/^matmul /, '');
}

function ok(f: BenchFigure | undefined): number | undefined {
  return f?.status === 'ok' ? f.value : undefined;
}

/** Bar rows for the figures of `suites`: the current value, and the earlier report's beside it. */
function barRows(suites: string[], filter: (f: BenchFigure) => boolean = () => true): BarRow[] {
  const r = state.report;
  if (!r) return [];
  return r.figures
    .filter((f) => suites.includes(f.suite) && filter(f))
    .map((f) => {
      const values = [ok(f)];
      if (state.earlier) values.push(ok(state.earlier.figures.find((g) => g.name === f.name)));
      return { label: shortLabel(f), values };
    });
}

function squareSeries(r: BenchReport, dashed: boolean, suffix: string): LineSeries[] {
  return MATMUL_FORMS.map((form, i) => ({
    label: `${form}${suffix}`,
    color: FORM_COLORS[i],
    dashed,
    points: r.figures
      .filter(
        (f) => f.suite === 'matmul' && f.params.origin === 'square' && f.params.form === form && f.status === 'ok',
      )
      .map((f): [number, number] => [Number(f.params.M), f.value ?? 0]),
  }));
}

function render(): void {
  const r = state.report;
  $<HTMLButtonElement>('download').disabled = !r;
  $('clear-compare').hidden = !state.earlier;
  if (!r) return;
  const legend = state.earlier ? ['this run', `earlier (${state.earlier.date.slice(0, 16).replace('T', ' ')})`] : [];

  const summary = $('summary');
  summary.hidden = false;
  summary.replaceChildren(
    ...reportHeader(r).map((line) => {
      const p = document.createElement('p');
      p.textContent = line;
      return p;
    }),
  );
  if (state.earlier) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = `Compared with: ${reportHeader(state.earlier).slice(0, 2).join(' — ')}`;
    summary.append(p);
  }

  $('plots').hidden = false;
  const series = squareSeries(r, false, '');
  if (state.earlier) series.push(...squareSeries(state.earlier, true, ' (earlier)'));
  drawLines($<HTMLCanvasElement>('plot-matmul'), series, 'N (matrix size, log scale)', 'GFLOP/s');
  drawBars(
    $<HTMLCanvasElement>('plot-shapes'),
    barRows(['matmul'], (f) => f.params.origin !== 'square'),
    'GFLOP/s',
    legend,
  );
  drawBars(
    $<HTMLCanvasElement>('plot-bandwidth'),
    barRows(['softmax_xent', 'activation', 'optimizer']),
    'GB/s',
    legend,
  );
  drawBars($<HTMLCanvasElement>('plot-steps'), barRows(['step', 'step_cpu']), 'samples/s', legend);

  renderTuning(r);

  $('results-card').hidden = false;
  const table = $<HTMLTableElement>('results');
  const header = state.earlier ? [...TABLE_HEADER, ...COMPARE_HEADER] : TABLE_HEADER;
  const head = document.createElement('tr');
  for (const h of header) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const rows = r.figures.map((f) => {
    const tr = document.createElement('tr');
    tr.dataset.status = f.status;
    tr.dataset.verified = String(f.verified);
    figureCells(f, state.earlier).forEach((cell, i) => {
      const td = document.createElement('td');
      td.textContent = cell;
      if (header[i] === 'note') td.className = 'note';
      if (i >= 2) td.classList.add('num');
      tr.append(td);
    });
    return tr;
  });
  table.replaceChildren(head, ...rows);
}

/**
 * The tuner's figures grouped by shape: a row naming the shape and its pick, then one row per variant
 * (time, GFLOP/s, check, note), the pick marked.
 */
function renderTuning(r: BenchReport): void {
  const figures = r.figures.filter((f) => f.suite === 'tune');
  $('tuning-card').hidden = figures.length === 0;
  if (!figures.length) return;
  const adapter = r.adapter ? describeAdapter(r.adapter) : 'an application device (adapter unknown)';
  $('tuning-adapter').textContent =
    `On ${adapter}; untuned default: ${r.kernelPreference}. Times as the tuner measured them (median of its samples); a variant that failed its check is never picked.`;
  const table = $<HTMLTableElement>('tuning');
  const head = document.createElement('tr');
  for (const h of ['shape', 'variant', 'time / run: median [min–max]', 'GFLOP/s', 'check', 'note']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const rows: HTMLTableRowElement[] = [head];
  let shape = '';
  for (const f of figures) {
    const key = `${f.params.origin} ${f.params.shape ?? ''}`;
    if (key !== shape) {
      shape = key;
      const picked = figures.find((g) => `${g.params.origin} ${g.params.shape ?? ''}` === key && g.params.picked);
      const tr = document.createElement('tr');
      tr.className = 'group';
      const td = document.createElement('td');
      td.colSpan = 6;
      td.textContent = `${key} → ${picked ? String(picked.name.split(' · ').pop()) : 'the default'}`;
      tr.append(td);
      rows.push(tr);
    }
    const cells = figureCells(f);
    const tr = document.createElement('tr');
    tr.dataset.status = f.status;
    tr.dataset.picked = String(f.params.picked === true);
    const variant = f.name.split(' · ').pop() ?? '';
    [String(f.params.shape ?? f.params.origin), variant, cells[2], cells[3], cells[4], cells[5]].forEach((cell, i) => {
      const td = document.createElement('td');
      td.textContent = cell ?? '';
      if (i >= 2 && i < 5) td.classList.add('num');
      if (i === 5) td.className = 'note';
      tr.append(td);
    });
    rows.push(tr);
  }
  table.replaceChildren(...rows);
}

async function run(quick: boolean): Promise<void> {
  if (state.running) return;
  state.running = true;
  for (const id of ['run-quick', 'run-full']) $<HTMLButtonElement>(id).disabled = true;
  $('log').textContent = '';
  setStatus('running', `Running the ${quick ? 'quick' : 'full'} suite…`);
  let ctx: GpuContext | undefined;
  try {
    // The benchmark tunes from an empty cache and saves nothing: the picks of your own models stay as they are.
    ctx = await GpuContext.create({ label: 'bench.device' });
    tuneCacheOf(ctx, null); // memory only: the bench page does not save its picks
    const report = await runBench(ctx, {
      quick,
      environment: { runtime: 'browser', version: navigator.userAgent },
      // the demo's own compressed copy of MNIST, for the time-to-98% figure of full runs
      mnist: () => loadMnist(new URL('mnist/', document.baseURI), () => {}),
      log: (line) => {
        log(line);
        if (!line.startsWith(' ')) setStatus('running', `Running: ${line}`);
      },
    });
    const problems = validateBenchReport(report);
    if (problems.length) throw new Error(`the report does not match its schema: ${problems.join('; ')}`);
    state.report = report;
    render();
    const failed = report.figures.filter((f) => f.status === 'failed').length;
    const skipped = report.figures.filter((f) => f.status === 'skipped').length;
    const counts = `${report.figures.length - failed - skipped} figures verified and timed, ${failed} failed, ${skipped} skipped`;
    setStatus(failed ? 'failed' : 'done', `Done in ${report.durationS.toFixed(1)} s: ${counts}.`);
  } catch (error) {
    setStatus('failed', `The benchmark stopped: ${(error as Error).message}`);
    log(String((error as Error).stack ?? error));
  } finally {
    ctx?.destroy();
    state.running = false;
    for (const id of ['run-quick', 'run-full']) $<HTMLButtonElement>(id).disabled = false;
  }
}

function download(): void {
  const r = state.report;
  if (!r) return;
  const blob = new Blob([`${JSON.stringify(r, null, 2)}\n`], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = defaultReportPath(new Date(r.date)).replace(/^.*\//, '');
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

async function readReport(input: HTMLInputElement): Promise<BenchReport | undefined> {
  const file = input.files?.[0];
  input.value = '';
  if (!file) return undefined;
  try {
    return parseBenchReport(await file.text(), file.name);
  } catch (error) {
    setStatus('failed', (error as Error).message);
    return undefined;
  }
}

$('run-quick').addEventListener('click', () => void run(true));
$('run-full').addEventListener('click', () => void run(false));
$('download').addEventListener('click', download);
$('open').addEventListener('change', async (e) => {
  const r = await readReport(e.target as HTMLInputElement);
  if (!r) return;
  state.report = r;
  setStatus('done', `Opened the report of ${r.date}.`);
  render();
});
$('compare').addEventListener('change', async (e) => {
  const r = await readReport(e.target as HTMLInputElement);
  if (!r) return;
  if (!state.report) {
    state.report = r;
    setStatus('done', `Opened the report of ${r.date} (run or open another to compare).`);
  } else {
    state.earlier = r;
    setStatus('done', `Comparing with the report of ${r.date}.`);
  }
  render();
});
$('clear-tuning').addEventListener('click', async () => {
  try {
    await clearSavedTuning();
    setStatus('done', 'Forgot the tuning picks saved in this browser: tuned models will measure again.');
  } catch (error) {
    setStatus('failed', `Could not clear the saved tuning: ${(error as Error).message}`);
  }
});
$('clear-compare').addEventListener('click', () => {
  state.earlier = undefined;
  render();
});
let resizeTimer: ReturnType<typeof setTimeout> | undefined;
addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(render, 150);
});

/** For tests and the console: the current report and the one compared with. */
(globalThis as unknown as { webgpuMlpBench: object }).webgpuMlpBench = {
  get report() {
    return state.report;
  },
  get earlier() {
    return state.earlier;
  },
};

setUpRace();
const autorun = new URLSearchParams(location.search).get('autorun');
if (autorun === 'quick' || autorun === 'full') void run(autorun === 'quick');
else if (!('gpu' in navigator)) {
  setStatus('failed', 'This browser has no WebGPU (navigator.gpu): you can still open and compare reports.');
}
