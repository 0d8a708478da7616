/**
 * The bench page's race against TF.js (bench/race.ts): webgpu-mlp and TF.js 4.22 (webgpu backend on
 * this page's adapter, wasm as the CPU reference) train the same networks one after the other; the
 * table shows setup and steady epochs apart and the ratios, the plot the ratios, and the JSON report
 * downloads. TF.js is loaded only when a race starts (demo/tfjs_browser.ts, a chunk of its own).
 *
 * URL parameters: `?race=quick` (or `full`, or `tiny`: two small cases, for the tests) starts a race on load;
 * `&rounds=N` fills the Rounds field: each case raced N times, each contender's median run compared
 * (RaceOptions.rounds).
 */
import { RACE_HEADER, type RaceMode, type RaceReport, type RaceResult, raceCells, runRace } from '../bench/race.js';
import { describeAdapter } from '../src/gpu/adapter.js';
import { GpuContext } from '../src/gpu/context.js';
import { createMLP } from '../src/mlp.js';
import { drawBars } from './bench-plot.js';
import { loadMnist } from './data.js';

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`bench.html has no #${id}`);
  return el as T;
}

let report: RaceReport | undefined;

function setStatus(kind: 'idle' | 'running' | 'done' | 'failed', text: string): void {
  const s = $('race-status');
  s.dataset.state = kind;
  s.textContent = text;
}

/** The results so far, as a table (text only: textContent) and bars of the ratios. */
function draw(results: readonly RaceResult[]): void {
  const table = $<HTMLTableElement>('race-table');
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const h of RACE_HEADER) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of results) {
    const row = body.insertRow();
    row.dataset.valid = String(r.valid);
    for (const cell of raceCells(r)) row.insertCell().textContent = cell;
  }
  const rows = results
    .filter((r) => r.vsWebgpu || r.vsWasm)
    .map((r) => ({
      label: `${r.case.name}${r.valid ? '' : ' (void)'}`,
      values: [r.vsWebgpu?.total, r.vsWasm?.total],
    }));
  $('race-plot-card').hidden = rows.length === 0;
  if (rows.length) {
    drawBars($<HTMLCanvasElement>('race-plot'), rows, 'times faster than TF.js, whole fit (setup included)', [
      'vs TF.js webgpu',
      'vs TF.js wasm',
    ]);
  }
}

async function race(mode: RaceMode, rounds = 1): Promise<void> {
  const buttons = ['race-quick', 'race-full'].map((id) => $<HTMLButtonElement>(id));
  $<HTMLInputElement>('race-rounds').disabled = true;
  for (const b of buttons) b.disabled = true;
  $<HTMLButtonElement>('race-download').disabled = true;
  setStatus('running', 'Racing… (TF.js loads first)');
  const results: RaceResult[] = [];
  try {
    const ctx = await GpuContext.create();
    const adapter = ctx.adapter ? describeAdapter(ctx.adapter) : 'unknown adapter';
    ctx.destroy();
    const { loadTfjs } = await import('./tfjs_browser.js');
    // Our networks share one device made for the race (its first case pays for it), as TF.js keeps its
    // backend from case to case: the pipelines compiled for one case serve the next (GpuContext).
    let device: Promise<GpuContext> | undefined;
    try {
      report = await runRace({
        mode,
        rounds,
        createMLP: async (options) => {
          device ??= GpuContext.create();
          return createMLP({ ...options, device: (await device).device });
        },
        tfjs: loadTfjs,
        mnist: async () => (await loadMnist(new URL('mnist/', document.baseURI), () => {})).train,
        log: (line) => setStatus('running', line.trim()),
        onResult: (r) => {
          results.push(r);
          draw(results);
        },
        environment: navigator.userAgent,
        adapter,
      });
    } finally {
      (await device?.catch(() => undefined))?.destroy();
    }
    $<HTMLButtonElement>('race-download').disabled = false;
    const valid = report.results.filter((r) => r.valid).length;
    setStatus(
      'done',
      `Done: ${report.results.length} races, ${valid} valid, against TF.js ${report.tfjs} on ${adapter}.`,
    );
  } catch (error) {
    setStatus('failed', `The race failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    for (const b of buttons) b.disabled = false;
    $<HTMLInputElement>('race-rounds').disabled = false;
  }
}

function download(): void {
  if (!report) return;
  const blob = new Blob([`${JSON.stringify(report, null, 2)}\n`], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `race-${report.date.slice(0, 19).replace(/:/g, '-')}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** The rounds asked for in #race-rounds: an integer in 1..99, or undefined (said in the status). */
function roundsAsked(): number | undefined {
  const text = $<HTMLInputElement>('race-rounds').value.trim();
  const rounds = Number(text);
  if (/^\d+$/.test(text) && rounds >= 1 && rounds <= 99) return rounds;
  setStatus('failed', `Rounds = ${JSON.stringify(text)} is invalid: expected an integer in 1..99.`);
  return undefined;
}

export function setUpRace(): void {
  const params = new URLSearchParams(location.search);
  const asked = params.get('rounds');
  if (asked !== null) $<HTMLInputElement>('race-rounds').value = asked;
  const start = (mode: RaceMode) => {
    const rounds = roundsAsked();
    if (rounds !== undefined) void race(mode, rounds);
  };
  $('race-quick').addEventListener('click', () => start('quick'));
  $('race-full').addEventListener('click', () => start('full'));
  $('race-download').addEventListener('click', download);
  (globalThis as unknown as { webgpuMlpRace: { report: () => RaceReport | undefined } }).webgpuMlpRace = {
    report: () => report,
  };
  const mode = params.get('race');
  if (mode === 'tiny' || mode === 'quick' || mode === 'full') start(mode);
}
