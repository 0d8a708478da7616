/**
 * Reliability, round three: the classes of defect an outside corpus of about 120 bad inputs and
 * faults found against schedules, early stopping, loss weights, GPU-buffer inputs and outputs, the
 * inference entry and long runs (issue 23). Each describe block is one class; each test failed before
 * its fix. docs/reliability.md states the behaviour these hold.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOutputPaths, writeFileAtomic } from '../../src/cli/files.js';
import { decodeModel } from '../../src/io/model_file.js';
import { createMLP, loadMLP } from '../../src/mlp.js';
import { TrainingInterrupted } from '../../src/train/loop.js';
import { useGpuContext } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';

const gpu = useGpuContext();
const dir = mkdtempSync(join(tmpdir(), 'webgpu-mlp-round3-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

describe('5. an atomic write replaces only a regular file', () => {
  it('a FIFO, a socket or a directory at the target is refused, before writing and by the path check; a link to a file is followed', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]); // a private FIFO: never a real /dev node
    const socket = join(dir, 'sock');
    const server = createServer();
    await new Promise<void>((ok) => server.listen(socket, ok));
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    try {
      for (const [path, kind] of [
        [fifo, 'a FIFO \\(named pipe\\)'],
        [socket, 'a socket'],
        [folder, 'a directory'],
      ] as const) {
        expect(() => writeFileAtomic(path, new Uint8Array(8))).toThrow(
          new RegExp(`^cannot write .*: it is ${kind}, not a regular file: it is never replaced`),
        );
        expect(lstatSync(path).isFile(), `${path} left as it was`).toBe(false);
        if (path !== folder) {
          expect(() => checkOutputPaths({ '--checkpoint': path })).toThrow(
            new RegExp(`^--checkpoint .* is ${kind}, not a regular file`),
          );
        }
      }
      expect(statSync(fifo).isFIFO()).toBe(true);
      expect(statSync(socket).isSocket()).toBe(true);
    } finally {
      server.close();
    }
    // A symbolic link to a regular file: the file is replaced, the link stays a link.
    const real = join(dir, 'real.bin');
    writeFileSync(real, 'old');
    const link = join(dir, 'link.bin');
    symlinkSync(real, link);
    writeFileAtomic(link, new TextEncoder().encode('new'));
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('new');
    // A link to a FIFO is the FIFO.
    const toFifo = join(dir, 'to-pipe');
    symlinkSync(fifo, toFifo);
    expect(() => writeFileAtomic(toFifo, new Uint8Array(1))).toThrow(/it is a FIFO/);
  });
});

describe('10. output a person can read', () => {
  it('an uncaught TrainingInterrupted prints its message and stack, not the checkpoint; the checkpoint is still there', async () => {
    const mlp = await createMLP({ layers: [16, 64, 3], seed: 1, device: gpu().device });
    const x = new Float32Array(64 * 16).fill(1e30);
    const error = await mlp.fit(x, randomInts(64, 2, 3), { epochs: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingInterrupted);
    const interrupted = error as TrainingInterrupted;
    expect(interrupted.checkpoint?.state).toBeDefined(); // 1,283 parameters and Adam's m and v
    expect(Object.keys(interrupted)).not.toContain('checkpoint');
    const printed = inspect(interrupted); // what Node prints for an uncaught error
    expect(printed).toContain(interrupted.message);
    expect(printed.length).toBeLessThan(3000);
    await mlp.destroy();
  });
});
