/** Terminal formatting for the CLIs: progress bars and tables. */
import type { StepProgress } from '../train/loop.js';

/**
 * `epoch 2/10 [########............] 188/469  812 steps/s  103,936 samples/s  loss 0.1234  acc 96.12%  ETA 4m05s`
 * (the time left at this pace, evaluations not counted).
 */
export function progressLine(p: StepProgress, epochs: number, width = 24): string {
  const filled = Math.round((width * p.step) / p.stepsPerEpoch);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const steps = String(p.step).padStart(String(p.stepsPerEpoch).length);
  const left = (epochs - p.epoch) * p.stepsPerEpoch + (p.stepsPerEpoch - p.step);
  const eta = p.stepsPerSecond > 0 ? `  ETA ${formatDuration(left / p.stepsPerSecond)}` : '';
  return `epoch ${p.epoch}/${epochs} [${bar}] ${steps}/${p.stepsPerEpoch}  ${p.stepsPerSecond.toFixed(1)} steps/s  ${Math.round(p.samplesPerSecond).toLocaleString('en-US')} samples/s  loss ${p.loss.toFixed(4)}  acc ${(100 * p.accuracy).toFixed(2)}%${eta}`;
}

/** 42 → `42s`, 245 → `4m05s`, 5400 → `1h30m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A confusion matrix as an aligned table. */
export function formatConfusion(confusion: number[][]): string {
  const width = Math.max(5, ...confusion.flat().map((v) => String(v).length + 1));
  const head = `      ${confusion.map((_, c) => String(c).padStart(width)).join('')}`;
  const rows = confusion.map(
    (row, r) => `   ${String(r).padStart(2)} ${row.map((v) => String(v).padStart(width)).join('')}`,
  );
  return [head, ...rows].join('\n');
}

/**
 * A confusion matrix with class names: a row per true class, a column per predicted class (names
 * cut to 12 characters in the header), and each row's recall.
 */
export function formatNamedConfusion(confusion: number[][], classes: readonly string[]): string {
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const label = Math.min(24, Math.max(4, ...classes.map((c) => c.length)));
  const width = Math.max(
    6,
    ...classes.map((c) => Math.min(12, c.length) + 1),
    ...confusion.flat().map((v) => String(v).length + 1),
  );
  const head = `${' '.repeat(label + 2)}${classes.map((c) => cut(c, 12).padStart(width)).join('')}   recall`;
  const rows = confusion.map((row, r) => {
    const total = row.reduce((a, b) => a + b, 0);
    const recall = total ? `${((100 * row[r]) / total).toFixed(1)}%` : '—';
    return `  ${cut(classes[r], label).padEnd(label)}${row.map((v) => String(v).padStart(width)).join('')}   ${recall.padStart(6)}`;
  });
  return [head, ...rows].join('\n');
}

/** A table of rows of cells, columns right-aligned to their widest cell (the header first). */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padStart(widths[c])).join('  ')).join('\n');
}
