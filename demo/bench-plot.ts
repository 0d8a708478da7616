/**
 * Canvas plots of the benchmark page: lines (GFLOP/s against matrix size) and horizontal bars (one
 * row per figure, the current run and optionally an earlier one side by side). No dependencies.
 */

export interface LineSeries {
  label: string;
  color: string;
  /** Earlier runs are drawn dashed. */
  dashed?: boolean;
  points: [number, number][];
}

export interface BarRow {
  label: string;
  /** The current run's value and, when comparing, the earlier run's (undefined: no figure). */
  values: (number | undefined)[];
}

const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const INK = '#17202f';
const MUTED = '#667085';
const GRID = '#e4e7ec';
/** Colours of the current run and of the earlier one. */
export const BAR_COLORS = ['#4f46e5', '#a3a9b8'];

/** Sizes the canvas for its CSS width and the device pixel ratio; returns the 2D context in CSS pixels. */
function setup(canvas: HTMLCanvasElement, cssHeight: number): { g: CanvasRenderingContext2D; w: number; h: number } {
  const w = canvas.clientWidth || Number(canvas.getAttribute('width')) || 600;
  const ratio = globalThis.devicePixelRatio || 1;
  canvas.style.height = `${cssHeight}px`;
  canvas.width = Math.round(w * ratio);
  canvas.height = Math.round(cssHeight * ratio);
  const g = canvas.getContext('2d');
  if (!g) throw new Error('no 2D canvas context');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, w, cssHeight);
  g.font = FONT;
  g.textBaseline = 'middle';
  return { g, w, h: cssHeight };
}

/** Round numbers for an axis from 0 to max. */
function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const step = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 2, 2.5, 5, 10].map((m) => m * step).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max * 1.0001 + nice; v += nice) {
    out.push(v);
    if (v >= max) break;
  }
  return out;
}

export function formatTick(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${+(v / 1e3).toFixed(0)}k`;
  if (v >= 100) return v.toFixed(0);
  if (v >= 1) return `${+v.toFixed(1)}`;
  return `${+v.toPrecision(2)}`;
}

function empty(g: CanvasRenderingContext2D, w: number, h: number, message: string): void {
  g.fillStyle = MUTED;
  g.textAlign = 'center';
  g.fillText(message, w / 2, h / 2);
}

/** A line plot with a log₂ x axis (matrix sizes) and a linear y axis from 0. */
export function drawLines(canvas: HTMLCanvasElement, series: LineSeries[], xLabel: string, yLabel: string): void {
  const { g, w, h } = setup(canvas, 300);
  const pts = series.flatMap((s) => s.points);
  if (pts.length === 0) {
    empty(g, w, h, 'no verified figures to plot');
    return;
  }
  const left = 56;
  const right = 16;
  const top = 30;
  const bottom = 40;
  const xs = [...new Set(pts.map((p) => p[0]))].sort((a, b) => a - b);
  const lx = (x: number) => Math.log2(x);
  const [x0, x1] = xs.length > 1 ? [lx(xs[0]), lx(xs[xs.length - 1])] : [lx(xs[0]) - 1, lx(xs[0]) + 1];
  const yTicks = ticks(Math.max(...pts.map((p) => p[1])));
  const yMax = yTicks[yTicks.length - 1];
  const px = (x: number) => left + ((lx(x) - x0) / (x1 - x0)) * (w - left - right);
  const py = (y: number) => h - bottom - (y / yMax) * (h - top - bottom);

  g.strokeStyle = GRID;
  g.fillStyle = MUTED;
  g.lineWidth = 1;
  g.textAlign = 'right';
  for (const t of yTicks) {
    g.beginPath();
    g.moveTo(left, py(t));
    g.lineTo(w - right, py(t));
    g.stroke();
    g.fillText(formatTick(t), left - 6, py(t));
  }
  g.textAlign = 'center';
  for (const x of xs) g.fillText(String(x), px(x), h - bottom + 14);
  g.fillText(xLabel, (left + w - right) / 2, h - 10);
  g.save();
  g.translate(12, (top + h - bottom) / 2);
  g.rotate(-Math.PI / 2);
  g.fillText(yLabel, 0, 0);
  g.restore();

  let legendX = left;
  for (const s of series) {
    if (s.points.length === 0) continue;
    const sorted = [...s.points].sort((a, b) => a[0] - b[0]);
    g.strokeStyle = s.color;
    g.fillStyle = s.color;
    g.lineWidth = 2;
    g.setLineDash(s.dashed ? [6, 4] : []);
    g.beginPath();
    sorted.forEach(([x, y], i) => {
      if (i) g.lineTo(px(x), py(y));
      else g.moveTo(px(x), py(y));
    });
    g.stroke();
    g.setLineDash([]);
    for (const [x, y] of sorted) {
      g.beginPath();
      g.arc(px(x), py(y), 3, 0, 2 * Math.PI);
      g.fill();
    }
    // legend
    g.beginPath();
    g.setLineDash(s.dashed ? [6, 4] : []);
    g.moveTo(legendX, 12);
    g.lineTo(legendX + 22, 12);
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = INK;
    g.textAlign = 'left';
    g.fillText(s.label, legendX + 28, 12);
    legendX += 40 + g.measureText(s.label).width;
  }
}

/**
 * Horizontal bars, one row per figure with the current value (and the earlier one beneath), on a
 * linear axis, or a log axis when the values span more than two decades.
 */
export function drawBars(canvas: HTMLCanvasElement, rows: BarRow[], unit: string, legend: string[] = []): void {
  const perBar = 14;
  const bars = Math.max(1, ...rows.map((r) => r.values.length));
  const rowH = bars * perBar + 10;
  const top = legend.length > 1 ? 28 : 10;
  const bottom = 34;
  const { g, w, h } = setup(canvas, Math.max(120, top + bottom + rows.length * rowH));
  const values = rows.flatMap((r) => r.values).filter((v): v is number => v !== undefined && v > 0);
  if (values.length === 0) {
    empty(g, w, h, 'no verified figures to plot');
    return;
  }
  g.font = FONT;
  const labelW = Math.min(w * 0.45, Math.max(...rows.map((r) => g.measureText(r.label).width)) + 12);
  const left = labelW;
  const right = 70;
  const max = Math.max(...values);
  const min = Math.min(...values);
  const log = max / min > 100;
  const lo = log ? 10 ** Math.floor(Math.log10(min)) : 0;
  const hi = log ? 10 ** Math.ceil(Math.log10(max)) : (ticks(max).at(-1) ?? max);
  const px = (v: number) => left + (log ? Math.log10(v / lo) / Math.log10(hi / lo) : v / hi) * (w - left - right);
  const axisTicks = log
    ? Array.from({ length: Math.round(Math.log10(hi / lo)) + 1 }, (_, i) => lo * 10 ** i)
    : ticks(max);

  g.strokeStyle = GRID;
  g.fillStyle = MUTED;
  g.textAlign = 'center';
  for (const t of axisTicks) {
    const x = px(log ? Math.max(t, lo) : t);
    g.beginPath();
    g.moveTo(x, top);
    g.lineTo(x, h - bottom);
    g.stroke();
    g.fillText(formatTick(t), x, h - bottom + 12);
  }
  g.fillText(`${unit}${log ? ' (log scale)' : ''}`, (left + w - right) / 2, h - 8);

  rows.forEach((row, r) => {
    const y0 = top + r * rowH + 5;
    g.fillStyle = INK;
    g.textAlign = 'right';
    g.fillText(row.label, left - 8, y0 + (bars * perBar) / 2);
    row.values.forEach((v, b) => {
      const y = y0 + b * perBar;
      if (v === undefined || !(v > 0)) {
        g.fillStyle = MUTED;
        g.textAlign = 'left';
        g.fillText('—', left + 4, y + perBar / 2);
        return;
      }
      g.fillStyle = BAR_COLORS[b % BAR_COLORS.length];
      const x = px(v);
      g.fillRect(left, y + 1, Math.max(1, x - left), perBar - 3);
      g.fillStyle = INK;
      g.textAlign = 'left';
      g.fillText(formatTick(v), x + 4, y + perBar / 2);
    });
  });
  if (legend.length > 1) {
    let x = left;
    legend.forEach((name, i) => {
      g.fillStyle = BAR_COLORS[i % BAR_COLORS.length];
      g.fillRect(x, 6, 12, 10);
      g.fillStyle = INK;
      g.textAlign = 'left';
      g.fillText(name, x + 16, 11);
      x += 30 + g.measureText(name).width;
    });
  }
}
