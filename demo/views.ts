/**
 * What the network has learned, drawn on plain canvases: test digits with their predicted labels,
 * the confusion matrix, and the first layer's weights as 28×28 images.
 */
import { MNIST_PIXELS, type MnistSplit } from '../src/index.js';
import { sizeCanvas } from './canvas.js';

const SIDE = 28;

/** Diverging colour for v in [−1, 1]: blue (negative) – white – orange-red (positive). */
export function diverging(v: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, v));
  const [r, g, b] = t >= 0 ? [228, 87, 46] : [47, 111, 222];
  const a = Math.abs(t) ** 0.8;
  return [255 + (r - 255) * a, 255 + (g - 255) * a, 255 + (b - 255) * a];
}

/** Draws image `index` of a split into a 28×28 canvas, dark ink on white. */
function paintDigit(canvas: HTMLCanvasElement, pixels: Uint8Array, index: number): void {
  const g = canvas.getContext('2d');
  if (!g) return;
  const img = g.createImageData(SIDE, SIDE);
  const base = index * MNIST_PIXELS;
  for (let i = 0; i < MNIST_PIXELS; i++) {
    const v = pixels[base + i] / 255;
    img.data[4 * i] = 255 - v * (255 - 23);
    img.data[4 * i + 1] = 255 - v * (255 - 32);
    img.data[4 * i + 2] = 255 - v * (255 - 47);
    img.data[4 * i + 3] = 255;
  }
  g.putImageData(img, 0, 0);
}

/** A grid of test digits: a fixed sample, or the latest mistakes, each with its predicted label. */
export class DigitGrid {
  mode: 'sample' | 'mistakes' = 'sample';
  private predictions: Uint32Array | undefined;
  private readonly sample: number[];

  constructor(
    private readonly root: HTMLElement,
    private readonly test: MnistSplit,
    private readonly count = 72,
  ) {
    // An evenly spread, fixed selection of the test set.
    const stride = Math.max(1, Math.floor(test.count / count));
    this.sample = Array.from({ length: Math.min(count, test.count) }, (_, i) => (i * stride + 7) % test.count);
    this.render();
  }

  update(predictions: Uint32Array): void {
    this.predictions = predictions;
    this.render();
  }

  setMode(mode: 'sample' | 'mistakes'): void {
    this.mode = mode;
    this.render();
  }

  private render(): void {
    const p = this.predictions;
    let indices = this.sample;
    if (this.mode === 'mistakes') {
      indices = [];
      if (p)
        for (let i = 0; i < p.length && indices.length < this.count; i++)
          if (p[i] !== this.test.labels[i]) indices.push(i);
    }
    const cells = indices.map((i) => {
      const cell = document.createElement('figure');
      cell.className = 'sample';
      const canvas = document.createElement('canvas');
      canvas.width = SIDE;
      canvas.height = SIDE;
      paintDigit(canvas, this.test.images, i);
      const label = document.createElement('figcaption');
      label.className = 'label';
      const truth = this.test.labels[i];
      if (p) {
        const wrong = p[i] !== truth;
        cell.dataset.wrong = String(wrong);
        label.textContent = wrong ? `${p[i]} ✗ ${truth}` : String(p[i]);
        cell.title = `test image ${i}: true ${truth}, predicted ${p[i]}`;
      } else {
        cell.dataset.pending = 'true';
        label.textContent = '·';
        cell.title = `test image ${i}: true ${truth}`;
      }
      cell.append(canvas, label);
      return cell;
    });
    if (cells.length === 0) {
      const empty = document.createElement('p');
      empty.className = 'samples-empty';
      empty.textContent = p ? 'No mistakes on the test set.' : 'Mistakes appear here after the first evaluation.';
      this.root.replaceChildren(empty);
    } else this.root.replaceChildren(...cells);
  }
}

/**
 * A confusion matrix cell's colours, by its count `n` of the true class's `total`: right answers (the
 * diagonal) in indigo as strong as their share, mistakes in red, stronger as they grow; empty cells grey.
 */
export function confusionCell(n: number, total: number, diagonal: boolean): { bg: string; fg: string } {
  const f = total ? n / total : 0;
  if (diagonal) return { bg: `rgba(79, 70, 229, ${0.08 + 0.82 * f})`, fg: f > 0.55 ? '#fff' : '#17202f' };
  if (n === 0) return { bg: '#f6f7f9', fg: '#17202f' };
  const a = Math.min(1, (f * 8) ** 0.6);
  return { bg: `rgba(224, 69, 58, ${0.1 + 0.75 * a})`, fg: a > 0.7 ? '#fff' : '#17202f' };
}

/** The recall of a true class: right answers of its rows, as a percentage with one decimal. */
const recall = (row: readonly number[], t: number, total: number) => `${((100 * row[t]) / total).toFixed(1)}%`;

/** The confusion matrix: counts, right answers in indigo, mistakes in red (stronger as they grow). */
export class ConfusionView {
  private confusion: number[][] | undefined;

  constructor(private readonly canvas: HTMLCanvasElement) {
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  update(confusion: number[][]): void {
    this.confusion = confusion;
    this.draw();
  }

  private draw(): void {
    const sized = sizeCanvas(this.canvas);
    if (!sized) return;
    const { g, width, height } = sized;
    const C = 10;
    const m = this.confusion ?? Array.from({ length: C }, () => new Array<number>(C).fill(0));
    const label = 22;
    const recallW = 44;
    const cell = Math.min((width - label - recallW) / C, (height - label - 4) / C);
    const x0 = label;
    const y0 = label;
    const font = (px: number, weight = 500) =>
      `${weight} ${px}px ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillStyle = '#8a94a6';
    g.font = font(11);
    for (let c = 0; c < C; c++) {
      g.fillText(String(c), x0 + (c + 0.5) * cell, label / 2);
      g.fillText(String(c), label / 2, y0 + (c + 0.5) * cell);
    }
    g.fillText('recall', x0 + C * cell + recallW / 2 + 2, label / 2);
    for (let t = 0; t < C; t++) {
      const total = m[t].reduce((a, b) => a + b, 0);
      for (let p = 0; p < C; p++) {
        const n = m[t][p];
        const x = x0 + p * cell;
        const y = y0 + t * cell;
        const { bg, fg } = confusionCell(n, total, t === p);
        g.fillStyle = bg;
        roundRect(g, x + 1, y + 1, cell - 2, cell - 2, 3);
        g.fill();
        if (n > 0) {
          g.fillStyle = fg;
          const text = String(n);
          const px = Math.min(12, cell * 0.36, (cell * 1.6) / text.length);
          g.font = font(px, t === p ? 650 : 500);
          g.fillText(text, x + cell / 2, y + cell / 2 + 0.5);
        }
      }
      if (total) {
        g.fillStyle = '#4b5565';
        g.font = font(Math.min(11.5, cell * 0.34));
        g.fillText(recall(m[t], t, total), x0 + C * cell + recallW / 2 + 2, y0 + (t + 0.5) * cell);
      }
    }
  }
}

function roundRect(g: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, r: number): void {
  g.beginPath();
  g.roundRect(x, y, w, h, r);
}

/** Each unit's 784 input weights as a 28×28 tile, colour-scaled per tile. */
export class WeightsView {
  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly hint: HTMLElement,
    private readonly maxTiles = 64,
  ) {}

  update(weights: ArrayLike<number>, fanOut: number, outputLayer: boolean): void {
    const tiles = Math.min(fanOut, this.maxTiles);
    const cols = tiles <= 10 ? 5 : tiles <= 16 ? 4 : tiles <= 40 ? Math.ceil(tiles / 4) : 8;
    const rows = Math.ceil(tiles / cols);
    const gap = 2;
    const w = cols * SIDE + (cols - 1) * gap;
    const h = rows * SIDE + (rows - 1) * gap;
    const { canvas } = this;
    canvas.width = w;
    canvas.height = h;
    const g = canvas.getContext('2d');
    if (!g) return;
    const img = g.createImageData(w, h);
    img.data.fill(255);
    for (let t = 0; t < tiles; t++) {
      let max = 1e-12;
      for (let i = 0; i < MNIST_PIXELS; i++) max = Math.max(max, Math.abs(weights[i * fanOut + t]));
      const ox = (t % cols) * (SIDE + gap);
      const oy = Math.floor(t / cols) * (SIDE + gap);
      for (let i = 0; i < MNIST_PIXELS; i++) {
        const [r, gg, b] = diverging(weights[i * fanOut + t] / max);
        const o = 4 * ((oy + Math.floor(i / SIDE)) * w + ox + (i % SIDE));
        img.data[o] = r;
        img.data[o + 1] = gg;
        img.data[o + 2] = b;
      }
    }
    g.putImageData(img, 0, 0);
    this.hint.textContent =
      fanOut > tiles
        ? `the first ${tiles} of ${fanOut} units: each tile is one unit's 784 input weights`
        : outputLayer
          ? 'no hidden layer: each tile is one digit\u2019s template, 0 to 9'
          : `all ${fanOut} units: each tile is one unit's 784 input weights`;
  }
}

/**
 * A confusion matrix with class names, as an HTML table (rows: true class, columns: predicted, then
 * each class's recall), coloured as ConfusionView's. Names of any length or content come from people's
 * files: they reach the page as text (textContent, the title property), never as markup.
 */
export class ConfusionTable {
  constructor(private readonly root: HTMLElement) {}

  update(confusion: readonly (readonly number[])[], classes: readonly string[]): void {
    const table = document.createElement('table');
    table.className = 'confusion-table';
    const head = table.createTHead().insertRow();
    const corner = document.createElement('th');
    corner.className = 'corner';
    corner.textContent = 'true ↓  predicted →';
    head.append(corner, ...classes.map((c) => nameCell(c, 'col')));
    const recallHead = document.createElement('th');
    recallHead.textContent = 'recall';
    head.append(recallHead);
    const body = table.createTBody();
    confusion.forEach((row, t) => {
      const tr = body.insertRow();
      tr.append(nameCell(classes[t], 'row'));
      const total = row.reduce((a, b) => a + b, 0);
      row.forEach((n, p) => {
        const td = tr.insertCell();
        const { bg, fg } = confusionCell(n, total, t === p);
        td.style.background = bg;
        td.style.color = fg;
        td.textContent = String(n);
        td.dataset.true = String(t);
        td.dataset.predicted = String(p);
        td.title = `true ${classes[t]}, predicted ${classes[p]}: ${n} row${n === 1 ? '' : 's'}`;
      });
      const r = tr.insertCell();
      r.className = 'recall';
      r.textContent = total ? recall(row, t, total) : '–';
    });
    this.root.replaceChildren(table);
  }
}

/** A header cell holding a class name as text. */
function nameCell(name: string, scope: 'row' | 'col'): HTMLTableCellElement {
  const th = document.createElement('th');
  th.scope = scope;
  th.className = 'class-name';
  th.textContent = name;
  th.title = name;
  return th;
}
