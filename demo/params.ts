/**
 * URL parameters: preset the controls and size the data, e.g. `?subset=2000&test=1000&epochs=1`
 * for a quick run (the end-to-end test) or `?backend=cpu` to try the CPU reference.
 *
 *   hidden=256,128  act=relu|tanh|sigmoid|linear  opt=adam|momentum|sgd  lr=0.05  batch=128
 *   epochs=10  seed=1  subset=N (training images)  test=N (test images)  backend=auto|webgpu|cpu
 *   autostart=1 (train as soon as the data is ready)
 */
import {
  ACTIVATIONS,
  type ActivationName,
  describeRange,
  inRange,
  OPTIMIZER_REGISTRY,
  OPTIMIZERS,
  type OptimizerKind,
} from '../src/index.js';

export interface DemoParams {
  hidden?: number[];
  activation?: ActivationName;
  optimizer?: OptimizerKind;
  learningRate?: number;
  batchSize?: number;
  epochs?: number;
  seed: number;
  subset?: number;
  test?: number;
  backend: 'auto' | 'webgpu' | 'cpu';
  autostart: boolean;
  /** Parameters given but not understood, for a notice. */
  ignored: string[];
}

/** The learning rate's range, the same for every optimizer and the library's. */
const LEARNING_RATE = OPTIMIZER_REGISTRY.sgd.hyper.learningRate;

export function parseParams(search: string): DemoParams {
  const q = new URLSearchParams(search);
  const ignored: string[] = [];
  const int = (name: string, min: number, max: number): number | undefined => {
    const raw = q.get(name);
    if (raw === null) return undefined;
    const v = Number(raw);
    if (Number.isInteger(v) && v >= min && v <= max) return v;
    ignored.push(`${name}=${raw} (expected an integer in ${min}..${max})`);
    return undefined;
  };
  const oneOf = <T extends string>(name: string, options: readonly T[]): T | undefined => {
    const raw = q.get(name);
    if (raw === null) return undefined;
    if ((options as readonly string[]).includes(raw)) return raw as T;
    ignored.push(`${name}=${raw} (expected one of ${options.join(', ')})`);
    return undefined;
  };
  let hidden: number[] | undefined;
  const rawHidden = q.get('hidden');
  if (rawHidden !== null) {
    const parsed = parseHidden(rawHidden);
    if (parsed) hidden = parsed;
    else ignored.push(`hidden=${rawHidden} (expected widths like 128 or 256,128)`);
  }
  let learningRate: number | undefined;
  const rawLr = q.get('lr');
  if (rawLr !== null) {
    const v = Number(rawLr);
    if (inRange(LEARNING_RATE, v)) learningRate = v;
    else ignored.push(`lr=${rawLr} (expected ${describeRange(LEARNING_RATE)})`);
  }
  return {
    hidden,
    activation: oneOf('act', ACTIVATIONS),
    optimizer: oneOf('opt', OPTIMIZERS),
    learningRate,
    batchSize: int('batch', 1, 4096),
    epochs: int('epochs', 1, 100),
    seed: int('seed', 0, 0xffffffff) ?? 1,
    subset: int('subset', 1, 60000),
    test: int('test', 1, 10000),
    backend: oneOf('backend', ['auto', 'webgpu', 'cpu'] as const) ?? 'auto',
    autostart: q.get('autostart') === '1',
    ignored,
  };
}

/** "256, 128" → [256, 128]; "" → [] (no hidden layer); undefined when malformed. */
export function parseHidden(text: string): number[] | undefined {
  const parts = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const widths = parts.map(Number);
  if (widths.length > 6 || widths.some((w) => !Number.isInteger(w) || w < 1 || w > 4096)) return undefined;
  return widths;
}
