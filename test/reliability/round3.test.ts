/**
 * Reliability, round three: the classes of defect an outside corpus of about 120 bad inputs and
 * faults found against schedules, early stopping, loss weights, GPU-buffer inputs and outputs, the
 * inference entry and long runs (issue 23). Each describe block is one class; each test failed before
 * its fix. docs/reliability.md states the behaviour these hold.
 */
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/io/model_file.js';
import { createMLP, loadMLP } from '../../src/mlp.js';
import { useGpuContext } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';

const gpu = useGpuContext();

describe('4. everything a file means survives load → save', () => {
  it("loadMLP then save() keeps inputScale and the file's other metadata; save's own metadata is added", async () => {
    const mlp = await createMLP({ layers: [4, 5, 3], seed: 1, device: gpu().device });
    const bytes = Uint8Array.from(randomArray(8 * 4, 3, 0.5), (v) => Math.round(Math.abs(v) * 255) % 256);
    await mlp.fit(bytes, randomInts(8, 4, 3), { batchSize: 4 });
    const saved = await mlp.save({ task: 'pixels' });
    expect(decodeModel(saved).metadata).toMatchObject({ inputScale: String(1 / 255), task: 'pixels' });
    await mlp.destroy();

    const loaded = await loadMLP(saved, { device: gpu().device });
    expect(loaded.metadata).toMatchObject({ inputScale: String(1 / 255), task: 'pixels' });
    const again = decodeModel(await loaded.save()).metadata;
    expect(again).toEqual(decodeModel(saved).metadata);
    // Later metadata joins what the file had; a key given again takes the new value.
    expect(decodeModel(await loaded.save({ task: 'digits', note: 'n' })).metadata).toMatchObject({
      inputScale: String(1 / 255),
      task: 'digits',
      note: 'n',
    });
    // Trained on floats after loading: the file still says how its inputs were scaled.
    await loaded.fit(randomArray(8 * 4, 4), randomInts(8, 5, 3), { batchSize: 4 });
    expect(decodeModel(await loaded.save()).metadata.inputScale).toBe(String(1 / 255));
    await loaded.destroy();
  });
});
