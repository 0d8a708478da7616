/** The report as a table: rows for the terminal (aligned text) and for the page (cells). */
import { describeAdapter } from '../src/gpu/adapter.js';
import { formatMs, formatValue } from './run.js';
import type { BenchFigure, BenchReport } from './types.js';

export const TABLE_HEADER = ['suite', 'figure', 'time / iteration: median [min–max]', 'value', 'check', 'note'];
export const COMPARE_HEADER = ['earlier', 'ratio'];

/** The figure's name without its suite prefix (the suite has its own column). */
function shortName(f: BenchFigure): string {
  const prefix = `${f.suite.replace('_cpu', '')} `;
  return f.name.startsWith(prefix) ? f.name.slice(prefix.length) : f.name;
}

function valueText(f: BenchFigure | undefined): string {
  return f?.status === 'ok' && f.value !== undefined ? `${formatValue(f.value)} ${f.unit}` : '';
}

/** Cells of one figure's row; with `earlier`, the same figure of another report and the ratio now ÷ then. */
export function figureCells(f: BenchFigure, earlier?: BenchReport): string[] {
  const t = f.timeMs;
  const time = t ? `${formatMs(t.median)} [${formatMs(t.min)}–${formatMs(t.max)}]` : '';
  const check =
    f.status === 'skipped'
      ? 'skipped'
      : f.check
        ? `${f.check.verified ? '✓' : '✗'} ${f.check.method} ${f.check.measure} ${f.check.maxError.toExponential(1)}`
        : '✗';
  const notes = [
    f.status === 'failed' ? 'FAILED' : '',
    f.speedup ? `${formatValue(f.speedup)}× the CPU` : '',
    f.note ?? '',
  ]
    .filter((s) => s)
    .join('; ');
  const cells = [f.suite, shortName(f), time, valueText(f), check, notes];
  if (earlier) {
    const before = earlier.figures.find((g) => g.name === f.name);
    const ratio =
      before?.value && f.value && before.status === 'ok' && f.status === 'ok'
        ? `${(f.value / before.value).toFixed(2)}×`
        : '';
    cells.push(valueText(before), ratio);
  }
  return cells;
}

/** Lines naming the adapter, the timing method and the run. */
export function reportHeader(r: BenchReport): string[] {
  const adapter = r.adapter ? describeAdapter(r.adapter) : 'an application device (adapter unknown)';
  const counts = { ok: 0, failed: 0, skipped: 0 };
  for (const f of r.figures) counts[f.status]++;
  return [
    `webgpu-mlp bench (${r.mode}) — ${r.date} — ${r.environment.runtime} ${r.environment.version}`,
    `adapter: ${adapter}; kernels: ${r.kernelPreference} (untuned default)${r.tune ? `; tuned figures: ${r.tune === 'both' ? 'beside the untuned ones' : r.tune === 'on' ? 'only' : 'none'}` : ''}`,
    `timing: ${r.timing.note}`,
    `${counts.ok} figures verified and timed, ${counts.failed} failed, ${counts.skipped} skipped, in ${r.durationS.toFixed(1)} s`,
  ];
}

/** The whole report as aligned text, optionally beside an earlier report. */
export function formatTable(r: BenchReport, earlier?: BenchReport): string {
  const header = earlier ? [...TABLE_HEADER, ...COMPARE_HEADER] : TABLE_HEADER;
  const rows = [header, ...r.figures.map((f) => figureCells(f, earlier))];
  // The note is last and free-width, except when comparing.
  const widths = header.map((_, c) => Math.max(...rows.map((row) => [...row[c]].length)));
  const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - [...s].length));
  const lines = rows.map((row) =>
    row
      .map((cell, c) => (c === row.length - 1 ? cell : pad(cell, widths[c])))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(Math.min(w, 60))).join('  '));
  const head = reportHeader(r);
  if (earlier) head.push(`compared with ${earlier.date} (${earlier.adapter ? describeAdapter(earlier.adapter) : '?'})`);
  return [...head, '', ...lines].join('\n');
}
