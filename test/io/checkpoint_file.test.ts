/**
 * Checkpoint files: a round trip keeps every float, position and setting; bad files are rejected
 * with errors that name the file and the problem (the fuzzing of the container is in safetensors.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_FORMAT,
  decodeCheckpoint,
  encodeCheckpoint,
  type MLPCheckpoint,
} from '../../src/io/checkpoint_file.js';
import { encodeModel } from '../../src/io/model_file.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { paramLayout } from '../../src/model/layout.js';
import { mulberry32 } from '../../src/model/random.js';
import { resolveSpec } from '../../src/model/spec.js';
import { OPTIMIZERS, type OptimizerKind, optimizerDefinition, resolveOptimizer } from '../../src/optim/index.js';
import { randomArray } from '../helpers/random.js';

function checkpoint(kind: OptimizerKind, seed = 1): MLPCheckpoint {
  const spec = resolveSpec({ layers: [5, 3, 4], activation: 'tanh' });
  const layout = paramLayout(spec);
  const flat = (s: number) => {
    // values only where tensors live; padding stays zero as on the GPU
    const out = new Float32Array(layout.totalFloats);
    const r = randomArray(layout.totalFloats, s);
    for (const t of [...layout.weights, ...layout.biases]) out.set(r.subarray(t.offset, t.offset + t.count), t.offset);
    return out;
  };
  const buffers = optimizerDefinition(kind).state.length; // velocity; m and v
  return {
    epoch: 3,
    step: 7,
    state: {
      spec,
      optimizer: resolveOptimizer({ kind, learningRate: 0.03, weightDecay: 1e-4 }),
      params: flat(seed),
      state: Array.from({ length: buffers }, (_, i) => flat(seed + 10 + i)),
      step: 123,
    },
  };
}

/** Re-encodes a checkpoint file with its metadata or tensors changed. */
function tamper(
  bytes: Uint8Array,
  change: (metadata: Record<string, string>, tensors: Map<string, { shape: number[]; data: Float32Array }>) => void,
): Uint8Array {
  const file = decodeSafetensors(bytes);
  const tensors = new Map(
    [...file.tensors].map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.data) }]),
  );
  const metadata = { ...file.metadata };
  change(metadata, tensors);
  return encodeSafetensors(
    [...tensors].map(([name, t]) => ({ name, ...t })),
    metadata,
  );
}

describe('checkpoint files', () => {
  for (const kind of OPTIMIZERS) {
    it(`round-trips a ${kind} checkpoint exactly`, () => {
      const cp = checkpoint(kind);
      const back = decodeCheckpoint(encodeCheckpoint(cp, { note: 'x' }));
      expect(back.epoch).toBe(3);
      expect(back.step).toBe(7);
      expect(back.state.step).toBe(123);
      expect(back.state.spec).toEqual(cp.state.spec);
      expect(back.state.optimizer).toEqual(cp.state.optimizer);
      expect(back.state.params).toEqual(cp.state.params);
      expect(back.state.state).toEqual(cp.state.state);
    });
  }

  it('names the optimizer tensors like the parameters, in the torch layout', () => {
    const file = decodeSafetensors(encodeCheckpoint(checkpoint('adam')));
    expect(file.metadata.format).toBe(CHECKPOINT_FORMAT);
    expect([...file.tensors.keys()].sort()).toEqual(
      ['', 'optimizer.m.', 'optimizer.v.']
        .flatMap((p) => ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias'].map((n) => p + n))
        .sort(),
    );
    expect(file.tensors.get('optimizer.m.layers.0.weight')?.shape).toEqual([3, 5]);
  });

  it('refuses to encode a checkpoint whose state does not fit its optimizer', () => {
    const cp = checkpoint('adam');
    cp.state.state.pop();
    expect(() => encodeCheckpoint(cp)).toThrow(
      'checkpoint.state.state holds 1 optimizer state buffers: the adam optimizer has 2 (m, v)',
    );
  });

  /** A checkpoint of a run with early stopping, after its best epoch (2) with restoreBest. */
  function withEarlyStopping(restoreBest = true): MLPCheckpoint {
    const cp = checkpoint('momentum');
    const best = checkpoint('momentum', 5).state;
    cp.earlyStopping = {
      settings: { monitor: 'testLoss', patience: 3, minDelta: 0.01, restoreBest },
      best: 0.25,
      bestEpoch: 2,
      wait: 0,
      ...(restoreBest && { bestState: { ...best, step: 99 } }),
    };
    return cp;
  }

  it('round-trips early stopping: its settings, where it stands and the state after the best epoch', () => {
    for (const restoreBest of [true, false]) {
      const cp = withEarlyStopping(restoreBest);
      const back = decodeCheckpoint(encodeCheckpoint(cp));
      expect(back.earlyStopping).toEqual(cp.earlyStopping);
    }
    const file = decodeSafetensors(encodeCheckpoint(withEarlyStopping()));
    expect(file.tensors.get('earlyStopping.best.optimizer.velocity.layers.1.bias')?.shape).toEqual([4]);
    expect(JSON.parse(file.metadata.earlyStopping as string)).toMatchObject({ bestEpoch: 2, bestOptimizerSteps: 99 });
    // Before the first epoch there is no best yet: NaN in memory, null in the file.
    const fresh = checkpoint('sgd');
    fresh.earlyStopping = {
      settings: { monitor: 'trainLoss', patience: 0, minDelta: 0, restoreBest: true },
      best: Number.NaN,
      bestEpoch: 0,
      wait: 0,
    };
    expect(decodeCheckpoint(encodeCheckpoint(fresh)).earlyStopping).toEqual(fresh.earlyStopping);
  });

  const good = encodeCheckpoint(checkpoint('momentum'));
  const cases: [string, Uint8Array, RegExp | string][] = [
    [
      'a model file',
      encodeModel(checkpoint('sgd').state.spec, checkpoint('sgd').state.params),
      'checkpoint file: metadata format is "webgpu-mlp/1", expected "webgpu-mlp-checkpoint/1"',
    ],
    [
      'a missing optimizer tensor',
      tamper(good, (_, t) => t.delete('optimizer.velocity.layers.1.bias')),
      'tensor optimizer.velocity.layers.1.bias is missing',
    ],
    [
      'an extra tensor',
      tamper(good, (_, t) => t.set('optimizer.m.layers.0.bias', { shape: [3], data: new Float32Array(3) })),
      'unexpected tensor optimizer.m.layers.0.bias',
    ],
    [
      'an optimizer state of the wrong shape',
      tamper(good, (_, t) =>
        t.set('optimizer.velocity.layers.0.weight', { shape: [5, 3], data: new Float32Array(15) }),
      ),
      'optimizer.velocity.layers.0.weight has shape [5, 3], expected [3, 5]',
    ],
    [
      'optimizer settings that are not JSON',
      tamper(good, (m) => {
        m.optimizer = '{kind:';
      }),
      'metadata "optimizer" is not valid JSON',
    ],
    [
      'an unknown optimizer',
      tamper(good, (m) => {
        m.optimizer = '{"kind":"lion"}';
      }),
      /metadata "optimizer" optimizer.kind = "lion" is invalid/,
    ],
    [
      'a bad epoch',
      tamper(good, (m) => {
        m.epoch = '0';
      }),
      'metadata "epoch" is "0", expected an integer ≥ 1',
    ],
    [
      'a missing step',
      tamper(good, (m) => {
        delete m.step;
      }),
      'metadata "step" is undefined, expected an integer ≥ 0',
    ],
    [
      'a NaN in the optimizer state',
      tamper(good, (_, t) => {
        const v = t.get('optimizer.velocity.layers.0.weight');
        if (v) v.data[2] = Number.NaN;
      }),
      'optimizer velocity is not finite; the checkpoint is of a diverged run',
    ],
  ];
  const early = encodeCheckpoint(withEarlyStopping());
  cases.push(
    [
      'early stopping whose best epoch is not before the checkpoint',
      tamper(early, (m) => {
        m.earlyStopping = (m.earlyStopping as string).replace('"bestEpoch":2', '"bestEpoch":3');
      }),
      'checkpoint file: metadata earlyStopping.bestEpoch = 3 is invalid: expected an integer in 0..2',
    ],
    [
      'early stopping without the state after its best epoch',
      tamper(early, (_, t) => t.delete('earlyStopping.best.layers.0.weight')),
      'tensor earlyStopping.best.layers.0.weight is missing',
    ],
    [
      'early stopping whose best state is of another optimizer',
      tamper(early, (m) => {
        m.earlyStopping = (m.earlyStopping as string).replace('"kind":"momentum"', '"kind":"sgd"');
      }),
      /bestOptimizer is "sgd", the checkpoint's optimizer "momentum"/,
    ],
    [
      'early stopping that is not an object',
      tamper(early, (m) => {
        m.earlyStopping = '[1]';
      }),
      'metadata "earlyStopping" is "[1]", expected a JSON object',
    ],
    [
      'a best state of a run without early stopping',
      tamper(early, (m) => {
        delete m.earlyStopping;
      }),
      'unexpected tensor earlyStopping.best.',
    ],
  );
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => decodeCheckpoint(bytes)).toThrow(message);
    });
  }
});

describe('decodeCheckpoint: fuzz', () => {
  it('2000 seeded mutations decode or throw a plain Error naming the file', () => {
    const rand = mulberry32(99);
    const int = (n: number): number => Math.floor(rand() * n);
    const good = encodeCheckpoint(checkpoint('adam'));
    const wild = [
      '',
      '-1',
      '1.5',
      '1e400',
      'null',
      '{}',
      '[]',
      '"x"',
      '{"kind":"adam","learningRate":-1}',
      '9'.repeat(40),
    ];
    let decoded = 0;
    let rejected = 0;
    for (let trial = 0; trial < 2000; trial++) {
      let file: Uint8Array;
      switch (int(4)) {
        case 0: // flip 1..3 bytes anywhere
          file = good.slice();
          for (let k = 1 + int(3); k > 0; k--) file[int(file.length)] ^= 1 + int(255);
          break;
        case 1: // truncate
          file = good.slice(0, int(good.length));
          break;
        case 2: // a metadata field replaced by a wild value
          file = tamper(good, (m) => {
            const keys = Object.keys(m);
            m[keys[int(keys.length)]] = wild[int(wild.length)];
          });
          break;
        default: // a tensor dropped or given a wrong shape
          file = tamper(good, (_, t) => {
            const keys = [...t.keys()];
            const key = keys[int(keys.length)];
            if (rand() < 0.5) t.delete(key);
            else t.set(key, { shape: [2], data: new Float32Array(2) });
          });
      }
      try {
        const cp = decodeCheckpoint(file, 'fuzz.ckpt');
        expect(cp.state.params.every(Number.isFinite)).toBe(true);
        decoded++;
      } catch (e) {
        if (!(e instanceof Error) || e.constructor !== Error || !e.message.startsWith('fuzz.ckpt: ')) throw e;
        rejected++;
      }
    }
    expect(decoded).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(1000);
  });
});
