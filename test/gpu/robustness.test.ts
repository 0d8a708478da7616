/**
 * Dawn's bounds checks (DeviceOptions.robustness): the device the library makes for itself in Node
 * goes without them, a device handed to the application keeps them, and every kernel trains the same
 * networks bit for bit either way — no result of ours depends on what an out-of-bounds access would
 * read (clamped, zero or whatever lies past a buffer).
 */
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import { dawnFlags, getGpu, requestGpuDevice } from '../../src/gpu/device.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { type CreateMLPOptions, createMLP } from '../../src/mlp.js';
import { mulberry32 } from '../../src/model/random.js';

describe("Dawn's flags", () => {
  it('add disable_robustness to the caller flags only when the checks are not wanted', () => {
    expect(dawnFlags([], true)).toEqual([]);
    expect(dawnFlags([], false)).toEqual(['enable-dawn-features=disable_robustness']);
    expect(dawnFlags(['disable-dawn-features=timestamp_quantization'], false)).toEqual([
      'disable-dawn-features=timestamp_quantization',
      'enable-dawn-features=disable_robustness',
    ]);
    // One list of toggles to enable, not two flags of the same name.
    expect(dawnFlags(['enable-dawn-features=allow_unsafe_apis', 'x'], false)).toEqual([
      'enable-dawn-features=allow_unsafe_apis,disable_robustness',
      'x',
    ]);
    const given = ['enable-dawn-features=allow_unsafe_apis'];
    dawnFlags(given, false);
    expect(given).toEqual(['enable-dawn-features=allow_unsafe_apis']);
  });

  it('a robustness that is not a boolean is refused before any device is made', async () => {
    await expect(requestGpuDevice({ robustness: 'no' as never })).rejects.toThrow(
      /robustness is .*"no".*: expected true or false/,
    );
  });
});

describe('which devices have the checks', () => {
  it("the library's own device goes without them unless asked; requestGpuDevice's keeps them; the app's is unknown", async () => {
    const own = await GpuContext.create();
    const asked = await GpuContext.create({ robustness: true });
    const app = await requestGpuDevice();
    const wrapped = await GpuContext.create({ device: app.device });
    try {
      expect(own.robustness).toBe(false);
      expect(asked.robustness).toBe(true);
      expect(app.robustness).toBe(true);
      expect(wrapped.robustness).toBeUndefined();
      // The caller's own Dawn flags can turn the checks off too: the device says so.
      const flagged = await requestGpuDevice({ nodeFlags: ['enable-dawn-features=disable_robustness'] });
      expect(flagged.robustness).toBe(false);
      flagged.device.destroy();
      const kept = await requestGpuDevice({ nodeFlags: ['disable-dawn-features=disable_robustness'] });
      expect(kept.robustness).toBe(true); // the toggle named among those to disable: the checks stay
      kept.device.destroy();
    } finally {
      own.destroy();
      asked.destroy();
      wrapped.destroy();
      app.device.destroy();
    }
  });

  it("a navigator.gpu that something else set in Node serves devices that need no flags; one that needs them gets Dawn's own", async () => {
    // What TF.js's loader in the benchmark does, and any library may: navigator.gpu, a Dawn instance made
    // with the checks on, before ours asks for a device without them.
    const other = await getGpu();
    const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: other }, configurable: true, writable: true });
    try {
      const shared = await requestGpuDevice();
      expect(shared.gpu).toBe(other);
      expect(shared.robustness).toBe(true);
      const unchecked = await requestGpuDevice({ robustness: false });
      expect(unchecked.gpu).not.toBe(other); // the shared instance cannot take the flag
      expect(unchecked.robustness).toBe(false);
      const own = await GpuContext.create();
      expect(own.robustness).toBe(false);
      for (const d of [shared.device, unchecked.device]) d.destroy();
      own.destroy();
    } finally {
      if (had) Object.defineProperty(globalThis, 'navigator', had);
      else Reflect.deleteProperty(globalThis, 'navigator');
    }
  });
});

/** Awkward shapes through every kind of kernel: norms, dropout, the three heads, four optimizers. */
const CASES: {
  name: string;
  net: CreateMLPOptions;
  targets: 'labels' | 'dense' | 'values';
  fit: Record<string, unknown>;
}[] = [
  {
    name: '[11, {13 BatchNorm}, {7 gelu LayerNorm dropout 0.3}, 5] softmax, Adam',
    net: {
      layers: [11, { units: 13, norm: 'batch' }, { units: 7, activation: 'gelu', norm: 'layer', dropout: 0.3 }, 5],
      seed: 3,
    },
    targets: 'labels',
    fit: { epochs: 3, batchSize: 17, optimizer: 'adam', learningRate: 0.01, seed: 5 },
  },
  {
    name: '[6, 9, 3] tanh, sigmoid head, RMSprop with weight decay',
    net: { layers: [6, 9, 3], activation: 'tanh', head: 'sigmoid', seed: 4 },
    targets: 'dense',
    fit: { epochs: 2, batchSize: 10, optimizer: 'rmsprop', learningRate: 0.01, weightDecay: 0.01, seed: 6 },
  },
  {
    name: '[7, 10, 5, 2] regression (mse), momentum',
    net: { layers: [7, 10, 5, 2], head: 'mse', seed: 5 },
    targets: 'values',
    fit: { epochs: 2, batchSize: 9, optimizer: 'momentum', learningRate: 0.02, momentum: 0.9, seed: 7 },
  },
  {
    name: '[5, 4, 3] sgd',
    net: { layers: [5, 4, 3], activation: 'sigmoid', seed: 6 },
    targets: 'labels',
    fit: { epochs: 2, batchSize: 53, optimizer: 'sgd', learningRate: 0.5, seed: 8 },
  },
];

const ROWS = 53;

function data(c: (typeof CASES)[number]): { x: Float32Array; y: Float32Array | Uint32Array } {
  const layers = c.net.layers;
  const D = layers[0] as number;
  const C = layers[layers.length - 1] as number;
  const rand = mulberry32(D * 100 + C);
  const x = Float32Array.from({ length: ROWS * D }, () => rand() * 2 - 1);
  if (c.targets === 'labels') return { x, y: Uint32Array.from({ length: ROWS }, () => Math.floor(rand() * C)) };
  return {
    x,
    y: Float32Array.from({ length: ROWS * C }, () => (c.targets === 'dense' ? Math.round(rand()) : rand() * 4 - 2)),
  };
}

async function train(c: (typeof CASES)[number], device?: GPUDevice) {
  const mlp = await createMLP({ ...c.net, ...(device ? { device } : {}) });
  try {
    const { x, y } = data(c);
    const history = await mlp.fit(x, y as Uint32Array, c.fit);
    const predictions = await mlp.predict(x);
    const file = decodeSafetensors(await mlp.save());
    return {
      robustness: mlp.model.ctx.robustness,
      losses: history.map((h) => h.trainLoss),
      predictions: [...predictions],
      tensors: [...file.tensors].map(([name, t]) => [name, [...t.data]] as const),
    };
  } finally {
    await mlp.destroy();
  }
}

describe('the same networks with and without the checks', () => {
  for (const c of CASES) {
    it(`${c.name}: losses, predictions and every saved tensor bit for bit`, async () => {
      const checked = await requestGpuDevice({ robustness: true });
      try {
        const without = await train(c);
        const withChecks = await train(c, checked.device);
        expect(without.robustness).toBe(false);
        expect(withChecks.robustness).toBeUndefined(); // the application's device: its settings are its own
        expect(without.losses.every(Number.isFinite)).toBe(true);
        expect(Object.is(without.losses.at(-1), withChecks.losses.at(-1))).toBe(true);
        expect(without.losses).toEqual(withChecks.losses);
        expect(without.predictions).toEqual(withChecks.predictions);
        expect(without.tensors.map(([n]) => n)).toEqual(withChecks.tensors.map(([n]) => n));
        for (let i = 0; i < without.tensors.length; i++) {
          const [name, a] = without.tensors[i];
          const b = withChecks.tensors[i][1];
          expect(a.length, name).toBe(b.length);
          expect(
            a.every((v, j) => Object.is(v, b[j])),
            name,
          ).toBe(true);
        }
      } finally {
        checked.device.destroy();
      }
    });
  }
});
