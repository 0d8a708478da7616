/**
 * The drawing pad: strokes from a mouse, pen or finger (pointer events), turned into an MNIST-like
 * input the way MNIST itself was made, and a saliency map drawn back over the strokes.
 *
 * MNIST's preprocessing (LeCun et al.): the digit's bounding box is scaled, keeping its aspect
 * ratio, to fit a 20×20 box with anti-aliasing (here: exact area averaging), then placed in the
 * 28×28 field so that its centre of mass sits at the centre (14, 14).
 */
import { MNIST_PIXELS } from '../src/index.js';

/** Side of the ink canvas, in ink units (the pad is drawn at any size over it). */
const INK = 280;
const SIDE = 28;
const BOX = 20;
const STROKE = INK * 0.075;
/** The colours of positive and negative values, as in the weights view (views.ts: diverging). */
const POS: [number, number, number] = [238, 96, 52];
const NEG: [number, number, number] = [64, 132, 255];

/** Maps ink coordinates to the 28×28 field: field = (ink − origin)·scale + offset. */
export interface Placement {
  scale: number;
  originX: number;
  originY: number;
  offsetX: number;
  offsetY: number;
}

export interface Preprocessed {
  /** [784] in [0, 1], row-major, like MNIST pixels / 255. */
  x: Float32Array;
  placement: Placement;
}

/**
 * MNIST preprocessing of an intensity image [height, width] in [0, 1]; null when it is blank.
 */
export function preprocess(ink: Float32Array, width: number, height: number): Preprocessed | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > 0.02) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const scale = BOX / Math.max(w, h);
  const dw = Math.ceil(w * scale - 1e-9);
  const dh = Math.ceil(h * scale - 1e-9);
  const small = boxResample(ink, width, x0, y0, w, h, scale, dw, dh);
  // centre of mass of the scaled digit (pixel centres at i + 0.5)
  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const v = small[y * dw + x];
      mass += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
    }
  }
  cx /= mass;
  cy /= mass;
  const offsetX = clamp(Math.round(SIDE / 2 - cx), 0, SIDE - dw);
  const offsetY = clamp(Math.round(SIDE / 2 - cy), 0, SIDE - dh);
  const out = new Float32Array(MNIST_PIXELS);
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) out[(y + offsetY) * SIDE + x + offsetX] = Math.min(1, small[y * dw + x]);
  }
  return { x: out, placement: { scale, originX: x0, originY: y0, offsetX, offsetY } };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/**
 * Area averaging: destination pixel (i, j) is the mean of the source over the square
 * [x0 + i/scale, x0 + (i+1)/scale) × [y0 + j/scale, …), clipped to the box (outside counts as 0).
 */
function boxResample(
  src: Float32Array,
  stride: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  scale: number,
  dw: number,
  dh: number,
): Float32Array {
  const span = 1 / scale;
  // weights[d] lists (source index, overlap) along one axis
  const axis = (n: number, dn: number) =>
    Array.from({ length: dn }, (_, d) => {
      const a = d * span;
      const b = Math.min((d + 1) * span, n);
      const taps: [number, number][] = [];
      for (let s = Math.floor(a); s < Math.ceil(b); s++) {
        const overlap = Math.min(b, s + 1) - Math.max(a, s);
        if (overlap > 0) taps.push([s, overlap]);
      }
      return taps;
    });
  const tx = axis(w, dw);
  const ty = axis(h, dh);
  // horizontal pass: rows of the box → [h, dw]
  const tmp = new Float32Array(h * dw);
  for (let y = 0; y < h; y++) {
    const row = (y0 + y) * stride + x0;
    for (let d = 0; d < dw; d++) {
      let sum = 0;
      for (const [s, o] of tx[d]) sum += src[row + s] * o;
      tmp[y * dw + d] = sum;
    }
  }
  const out = new Float32Array(dw * dh);
  const area = span * span;
  for (let d = 0; d < dh; d++) {
    for (let x = 0; x < dw; x++) {
      let sum = 0;
      for (const [s, o] of ty[d]) sum += tmp[s * dw + x] * o;
      out[d * dw + x] = sum / area;
    }
  }
  return out;
}

/** A 28×28 saliency image (RGBA) and its strength: ∂L/∂x scaled by its largest magnitude. */
export function saliencyImage(dx: ArrayLike<number>, input: Float32Array, onInput: boolean): ImageData {
  // scaled by a high percentile of |∂L/∂x| rather than the maximum: one extreme pixel would fade the rest
  const magnitudes = Array.from({ length: MNIST_PIXELS }, (_, i) => Math.abs(dx[i])).sort((a, b) => a - b);
  const top = Math.max(magnitudes[Math.floor(0.98 * (MNIST_PIXELS - 1))], 1e-12);
  const img = new ImageData(SIDE, SIDE);
  for (let i = 0; i < MNIST_PIXELS; i++) {
    const v = Math.max(-1, Math.min(1, dx[i] / top));
    const [r, g, b] = v >= 0 ? POS : NEG;
    // small gradients fade out, so that the map shows where it matters
    const a = Math.abs(v) ** 2;
    if (onInput) {
      // over the input itself: grey ink, tinted by the gradient
      const ink = input[i] * 235 + 16;
      img.data[4 * i] = ink + (r - ink) * a;
      img.data[4 * i + 1] = ink + (g - ink) * a;
      img.data[4 * i + 2] = ink + (b - ink) * a;
      img.data[4 * i + 3] = 255;
    } else {
      img.data[4 * i] = r;
      img.data[4 * i + 1] = g;
      img.data[4 * i + 2] = b;
      img.data[4 * i + 3] = 225 * a;
    }
  }
  return img;
}

export class DrawingPad {
  /** Strokes, white on transparent, INK × INK. */
  private readonly ink: HTMLCanvasElement;
  private readonly inkCtx: CanvasRenderingContext2D;
  private overlay: { image: HTMLCanvasElement; placement: Placement } | undefined;
  private last: { x: number; y: number } | undefined;
  private pointer: number | undefined;
  private drawn = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onChange: (final: boolean) => void,
  ) {
    this.ink = document.createElement('canvas');
    this.ink.width = INK;
    this.ink.height = INK;
    const ctx = this.ink.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('2D canvas is unavailable');
    this.inkCtx = ctx;
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', (e) => this.up(e));
    canvas.addEventListener('pointercancel', (e) => this.up(e));
    new ResizeObserver(() => this.render()).observe(canvas);
  }

  get isEmpty(): boolean {
    return !this.drawn;
  }

  clear(): void {
    this.inkCtx.clearRect(0, 0, INK, INK);
    this.drawn = false;
    this.overlay = undefined;
    this.render();
  }

  /** The strokes as MNIST would have them, or null when nothing is drawn. */
  read(): Preprocessed | null {
    if (!this.drawn) return null;
    const rgba = this.inkCtx.getImageData(0, 0, INK, INK).data;
    const ink = new Float32Array(INK * INK);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3] / 255;
    return preprocess(ink, INK, INK);
  }

  /** Shows a 28×28 image over the strokes, placed where the preprocessing took them from. */
  setOverlay(image: ImageData | undefined, placement?: Placement): void {
    if (!image || !placement) this.overlay = undefined;
    else {
      const c = document.createElement('canvas');
      c.width = SIDE;
      c.height = SIDE;
      c.getContext('2d')?.putImageData(image, 0, 0);
      this.overlay = { image: c, placement };
    }
    this.render();
  }

  private toInk(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * INK, y: ((e.clientY - r.top) / r.height) * INK };
  }

  private down(e: PointerEvent): void {
    if (this.pointer !== undefined) return;
    this.pointer = e.pointerId;
    this.canvas.setPointerCapture(e.pointerId);
    const p = this.toInk(e);
    this.segment(p.x, p.y, true);
    this.onChange(false);
    e.preventDefault();
  }

  private move(e: PointerEvent): void {
    if (e.pointerId !== this.pointer) return;
    for (const ev of e.getCoalescedEvents?.() ?? [e]) {
      const p = this.toInk(ev);
      this.segment(p.x, p.y, false);
    }
    this.onChange(false);
  }

  private up(e: PointerEvent): void {
    if (e.pointerId !== this.pointer) return;
    this.pointer = undefined;
    this.last = undefined;
    this.onChange(true);
  }

  private segment(x: number, y: number, start: boolean): void {
    const g = this.inkCtx;
    g.strokeStyle = '#fff';
    g.fillStyle = '#fff';
    g.lineWidth = STROKE;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    if (start || !this.last) {
      g.beginPath();
      g.arc(x, y, STROKE / 2, 0, 2 * Math.PI);
      g.fill();
    } else {
      g.beginPath();
      g.moveTo(this.last.x, this.last.y);
      g.lineTo(x, y);
      g.stroke();
    }
    this.last = { x, y };
    this.drawn = true;
    this.render();
  }

  private render(): void {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const size = c.clientWidth;
    if (!size) return;
    if (c.width !== Math.round(size * dpr)) {
      c.width = Math.round(size * dpr);
      c.height = Math.round(size * dpr);
    }
    const g = c.getContext('2d');
    if (!g) return;
    const k = c.width / INK;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.fillStyle = '#101827';
    g.fillRect(0, 0, c.width, c.height);
    g.globalAlpha = this.overlay ? 0.8 : 1;
    g.drawImage(this.ink, 0, 0, c.width, c.height);
    g.globalAlpha = 1;
    if (this.overlay) {
      const { image, placement: p } = this.overlay;
      // the field's (0, 0) in ink units, and its size
      const left = p.originX - p.offsetX / p.scale;
      const top = p.originY - p.offsetY / p.scale;
      const side = SIDE / p.scale;
      g.imageSmoothingEnabled = true;
      g.imageSmoothingQuality = 'high';
      g.drawImage(image, left * k, top * k, side * k, side * k);
    }
  }
}
