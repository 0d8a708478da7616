/**
 * Training runs that must give the same model, byte for byte, before and after the engine's
 * restructuring into layer, head and optimizer definitions (test/train/bit_identity.test.ts). The
 * models saved by the engine before it are in test/fixtures/before-refactor/, made with these exact
 * calls. Adam differs on purpose (its 1 − β now comes from the CPU in double precision): its case is
 * compared within a tolerance instead.
 */
import { mulberry32 } from '../../src/model/random.js';

export interface RefactorCase {
  name: string;
  layers: number[];
  activation: 'relu' | 'tanh' | 'sigmoid' | 'linear' | ('relu' | 'tanh' | 'sigmoid' | 'linear')[];
  head: 'softmax' | 'sigmoid';
  targets: 'labels' | 'dense';
  fit: {
    epochs: number;
    batchSize: number;
    optimizer: 'sgd' | 'momentum' | 'adam';
    learningRate: number;
    momentum?: number;
    weightDecay?: number;
    seed: number;
  };
  /** Bytes may differ (a change made on purpose); compare the weights within this relative tolerance. */
  rtol?: number;
}

export const ROWS = 50;
export const D = 12;

export const REFACTOR_CASES: RefactorCase[] = [
  {
    name: 'momentum-relu-tanh-softmax-labels',
    layers: [D, 16, 8, 3],
    activation: ['relu', 'tanh'],
    head: 'softmax',
    targets: 'labels',
    fit: {
      epochs: 3,
      batchSize: 16,
      optimizer: 'momentum',
      learningRate: 0.05,
      momentum: 0.9,
      weightDecay: 1e-3,
      seed: 4,
    },
  },
  {
    name: 'sgd-sigmoid-sigmoid-dense',
    layers: [D, 10, 2],
    activation: 'sigmoid',
    head: 'sigmoid',
    targets: 'dense',
    fit: { epochs: 2, batchSize: 7, optimizer: 'sgd', learningRate: 0.3, seed: 5 },
  },
  {
    name: 'sgd-linear-softmax-soft',
    layers: [D, 9, 4],
    activation: 'linear',
    head: 'softmax',
    targets: 'dense',
    fit: { epochs: 2, batchSize: 10, optimizer: 'sgd', learningRate: 0.2, weightDecay: 0.01, seed: 6 },
  },
  {
    name: 'adam-relu-softmax-labels',
    layers: [D, 16, 3],
    activation: 'relu',
    head: 'softmax',
    targets: 'labels',
    fit: { epochs: 2, batchSize: 8, optimizer: 'adam', learningRate: 0.01, weightDecay: 1e-4, seed: 7 },
    rtol: 1e-4,
  },
];

/** The case's data: inputs [ROWS, D] and targets (labels, or dense rows: probabilities). */
export function caseData(c: RefactorCase): { x: Float32Array; labels?: Uint32Array; dense?: Float32Array } {
  const rand = mulberry32(1000 + c.layers.length * 31 + c.layers[1]);
  const x = Float32Array.from({ length: ROWS * D }, () => rand() * 2 - 1);
  const C = c.layers[c.layers.length - 1];
  if (c.targets === 'labels') return { x, labels: Uint32Array.from({ length: ROWS }, () => Math.floor(rand() * C)) };
  const dense = new Float32Array(ROWS * C);
  for (let r = 0; r < ROWS; r++) {
    if (c.head === 'sigmoid') for (let k = 0; k < C; k++) dense[r * C + k] = rand() < 0.5 ? 0 : 1;
    else {
      let sum = 0;
      for (let k = 0; k < C; k++) sum += dense[r * C + k] = rand();
      for (let k = 0; k < C; k++) dense[r * C + k] /= sum;
    }
  }
  return { x, dense };
}
