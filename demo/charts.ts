/**
 * A small line chart on a plain canvas: epochs on x, a linear or logarithmic y, crisp at any
 * device pixel ratio, redrawn at most once per frame.
 */
import { sizeCanvas } from './canvas.js';

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  color: string;
  points: Point[];
  /** 'faint': thin and light (raw values); 'line': the main line; 'dots': a line through marked points. */
  style: 'faint' | 'line' | 'dots';
}

export interface ChartOptions {
  y: 'linear' | 'log';
  /** For a linear y: the fixed range. */
  yRange?: [number, number];
  formatY: (v: number) => string;
  /** The right end of x (at least the data's). */
  xMax: () => number;
}

const FONT = '11px ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const MUTED = '#8a94a6';
const GRID = '#eef0f3';
const AXIS = '#d5d9e0';

/**
 * A drawing on a canvas, sized to its box at the device pixel ratio: redrawn on the next frame after
 * `invalidate` (once, however often it is called) and whenever the canvas is resized.
 */
abstract class FrameDrawing {
  private pending = false;

  constructor(protected readonly canvas: HTMLCanvasElement) {
    new ResizeObserver(() => this.invalidate()).observe(canvas);
  }

  /** Redraws on the next frame (once, however often it is called). */
  invalidate(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      const sized = sizeCanvas(this.canvas);
      if (!sized) return;
      sized.g.font = FONT;
      this.draw(sized.g, sized.width, sized.height);
    });
  }

  /** Draws on the cleared canvas, in CSS pixels. */
  protected abstract draw(g: CanvasRenderingContext2D, width: number, height: number): void;
}

export class LineChart extends FrameDrawing {
  series: Series[] = [];

  constructor(
    canvas: HTMLCanvasElement,
    private readonly options: ChartOptions,
  ) {
    super(canvas);
  }

  protected draw(g: CanvasRenderingContext2D, width: number, height: number): void {
    const all = this.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
    const [y0, y1, yTicks] = this.yDomain(all);
    const xMax = Math.max(this.options.xMax(), ...all.map((p) => p.x), 1e-9);
    const left = 8 + Math.max(...yTicks.map((t) => g.measureText(this.options.formatY(t)).width));
    const box = { left: left + 8, right: width - 10, top: 8, bottom: height - 24 };
    const sx = (x: number) => box.left + (x / xMax) * (box.right - box.left);
    const ty = this.options.y === 'log' ? (v: number) => Math.log10(v) : (v: number) => v;
    const sy = (y: number) =>
      box.bottom - ((ty(Math.max(y, y0)) - ty(y0)) / (ty(y1) - ty(y0) || 1)) * (box.bottom - box.top);

    // grid and y labels
    g.lineWidth = 1;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (const t of yTicks) {
      const y = Math.round(sy(t)) + 0.5;
      g.strokeStyle = GRID;
      g.beginPath();
      g.moveTo(box.left, y);
      g.lineTo(box.right, y);
      g.stroke();
      g.fillStyle = MUTED;
      g.fillText(this.options.formatY(t), box.left - 8, y);
    }
    // x axis and labels
    g.strokeStyle = AXIS;
    g.beginPath();
    g.moveTo(box.left, Math.round(box.bottom) + 0.5);
    g.lineTo(box.right, Math.round(box.bottom) + 0.5);
    g.stroke();
    g.textAlign = 'center';
    g.textBaseline = 'top';
    g.fillStyle = MUTED;
    for (const t of xTicks(xMax)) {
      const x = sx(t);
      g.fillText(formatEpoch(t), x, box.bottom + 6);
    }
    g.textAlign = 'right';
    g.textBaseline = 'bottom';
    g.fillText('epoch', box.right, box.bottom - 4);

    // series
    g.save();
    g.beginPath();
    g.rect(box.left, box.top - 4, box.right - box.left + 4, box.bottom - box.top + 4);
    g.clip();
    g.lineJoin = 'round';
    g.lineCap = 'round';
    for (const s of this.series) {
      const pts = s.points.filter((p) => Number.isFinite(p.y));
      if (pts.length === 0) continue;
      g.strokeStyle = s.color;
      g.globalAlpha = s.style === 'faint' ? 0.45 : 1;
      g.lineWidth = s.style === 'faint' ? 1 : 2;
      g.beginPath();
      pts.forEach((p, i) => {
        if (i === 0) g.moveTo(sx(p.x), sy(p.y));
        else g.lineTo(sx(p.x), sy(p.y));
      });
      g.stroke();
      if (s.style === 'dots') {
        g.fillStyle = '#fff';
        for (const p of pts) {
          g.beginPath();
          g.arc(sx(p.x), sy(p.y), 3, 0, 2 * Math.PI);
          g.fill();
          g.stroke();
        }
      }
    }
    g.restore();
    g.globalAlpha = 1;
  }

  /** The y range and its ticks. */
  private yDomain(points: Point[]): [number, number, number[]] {
    if (this.options.y === 'linear') {
      const [lo, hi] = this.options.yRange ?? [
        Math.min(0, ...points.map((p) => p.y)),
        Math.max(1, ...points.map((p) => p.y)),
      ];
      const ticks: number[] = [];
      const step = niceStep((hi - lo) / 5);
      for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(+t.toFixed(10));
      return [lo, hi, ticks];
    }
    // log: 1-2-5 ticks covering the data
    const ys = points.map((p) => p.y).filter((y) => y > 0);
    const lo = Math.max(1e-4, ys.length ? Math.min(...ys) : 0.1);
    const hi = Math.max(lo * 2, ys.length ? Math.max(...ys) : 3);
    const candidates: number[] = [];
    for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)) + 1; e++) {
      for (const m of [1, 2, 5]) candidates.push(m * 10 ** e);
    }
    const y0 = Math.max(...candidates.filter((c) => c <= lo));
    const y1 = Math.min(...candidates.filter((c) => c >= hi));
    let ticks = candidates.filter((c) => c >= y0 - 1e-12 && c <= y1 + 1e-12);
    if (ticks.length > 7) ticks = ticks.filter((c) => Math.abs(Math.log10(c) - Math.round(Math.log10(c))) < 1e-9);
    return [y0, y1, ticks];
  }
}

function niceStep(raw: number): number {
  const e = 10 ** Math.floor(Math.log10(raw));
  const m = raw / e;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
}

function xTicks(xMax: number): number[] {
  const step = xMax <= 1 ? 0.25 : xMax <= 2 ? 0.5 : niceStep(xMax / 8) < 1 ? 1 : niceStep(xMax / 8);
  const ticks: number[] = [];
  for (let t = 0; t <= xMax + 1e-9; t += step) ticks.push(+t.toFixed(6));
  return ticks;
}

function formatEpoch(t: number): string {
  return Number.isInteger(t) ? String(t) : t.toFixed(2).replace(/0+$/, '');
}

/** Exponential moving average of a series' y (bias-corrected, so the first points are not pulled to 0). */
export function smooth(points: Point[], alpha = 0.12): Point[] {
  let avg = 0;
  let weight = 0;
  return points.map((p) => {
    avg = (1 - alpha) * avg + alpha * p.y;
    weight = (1 - alpha) * weight + alpha;
    return { x: p.x, y: avg / weight };
  });
}

/** The pages' loss chart: a log scale, epochs along x up to `xMax()`. */
export function createLossChart(canvas: HTMLCanvasElement, xMax: () => number): LineChart {
  return new LineChart(canvas, {
    y: 'log',
    formatY: (v) => (v >= 1 ? v.toFixed(0) : v >= 0.1 ? v.toFixed(1) : v.toPrecision(1)),
    xMax,
  });
}

/** The pages' accuracy chart: 0 to 100%, epochs along x up to `xMax()`. */
export function createAccuracyChart(canvas: HTMLCanvasElement, xMax: () => number): LineChart {
  return new LineChart(canvas, { y: 'linear', yRange: [0, 1], formatY: (v) => `${Math.round(v * 100)}%`, xMax });
}

/** A chart's legend: a swatch, a name and the latest value (– when none) per series; text only, no markup. */
export function legend(el: HTMLElement, items: [string, string, string | undefined][]): void {
  el.replaceChildren(
    ...items.map(([color, name, value]) => {
      const span = document.createElement('span');
      const swatch = document.createElement('i');
      swatch.style.background = color;
      const b = document.createElement('b');
      b.textContent = value ?? '–';
      span.append(swatch, `${name} `, b);
      return span;
    }),
  );
}

/**
 * Predicted against true values (a regression's validation rows): a point per row, the diagonal
 * y = x where a perfect model's points would lie, the same scale on both axes.
 */
export class ScatterPlot extends FrameDrawing {
  private points: Point[] = [];

  constructor(
    canvas: HTMLCanvasElement,
    private readonly format: (v: number) => string = (v) => String(+v.toPrecision(4)),
  ) {
    super(canvas);
  }

  /** x: the true value, y: the prediction. */
  update(points: Point[]): void {
    this.points = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    this.invalidate();
  }

  protected draw(g: CanvasRenderingContext2D, width: number, height: number): void {
    const values = this.points.flatMap((p) => [p.x, p.y]);
    let lo = values.length ? Math.min(...values) : 0;
    let hi = values.length ? Math.max(...values) : 1;
    if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
    const step = niceStep((hi - lo) / 5);
    lo = Math.floor(lo / step) * step;
    hi = Math.ceil(hi / step) * step;
    const ticks: number[] = [];
    for (let t = lo; t <= hi + step * 1e-6; t += step) ticks.push(+t.toFixed(10));
    const left = 8 + Math.max(...ticks.map((t) => g.measureText(this.format(t)).width)) + 8;
    const side = Math.min(width - left - 10, height - 8 - 24);
    const box = { left, right: left + side, top: 8, bottom: 8 + side };
    const sx = (v: number) => box.left + ((v - lo) / (hi - lo)) * side;
    const sy = (v: number) => box.bottom - ((v - lo) / (hi - lo)) * side;

    g.lineWidth = 1;
    for (const t of ticks) {
      g.strokeStyle = GRID;
      g.beginPath();
      g.moveTo(box.left, Math.round(sy(t)) + 0.5);
      g.lineTo(box.right, Math.round(sy(t)) + 0.5);
      g.moveTo(Math.round(sx(t)) + 0.5, box.top);
      g.lineTo(Math.round(sx(t)) + 0.5, box.bottom);
      g.stroke();
      g.fillStyle = MUTED;
      g.textAlign = 'right';
      g.textBaseline = 'middle';
      g.fillText(this.format(t), box.left - 8, sy(t));
      g.textAlign = 'center';
      g.textBaseline = 'top';
      g.fillText(this.format(t), sx(t), box.bottom + 6);
    }
    g.strokeStyle = AXIS;
    g.strokeRect(box.left + 0.5, box.top + 0.5, side, side);
    g.save();
    g.setLineDash([4, 4]);
    g.strokeStyle = '#94a3b8';
    g.beginPath();
    g.moveTo(sx(lo), sy(lo));
    g.lineTo(sx(hi), sy(hi));
    g.stroke();
    g.restore();
    g.fillStyle = 'rgba(79, 70, 229, 0.55)';
    for (const p of this.points) {
      g.beginPath();
      g.arc(sx(p.x), sy(p.y), 3, 0, 2 * Math.PI);
      g.fill();
    }
  }
}
