/**
 * Running Python from the tests (test/interop/python.test.ts, test/train/mnist_layers.test.ts):
 * examples/python/load_model.py with `python3` (or $PYTHON) and numpy + safetensors, which CI installs.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** examples/python/load_model.py. */
export const LOAD_MODEL = join(ROOT, 'examples/python/load_model.py');
export const PYTHON = process.env.PYTHON ?? 'python3';
export const INSTALL = `${PYTHON} -m pip install --user numpy safetensors`;

/**
 * |python − library| ≤ ATOL + RTOL·|python| per output. The library runs in f32 on the GPU; the
 * script in float64 (torch: f32) from the same f32 weights. Each f32 op rounds by ≤ 2⁻²⁴ ≈ 6e-8
 * relative and WGSL's exp/tanh are allowed a few ULP more, so through ≤ 3 layers of width ≤ 8 the
 * outputs (of order 1) differ by ~1e-6 at most (measured on SwiftShader: ≤ 4e-7). 1e-5 leaves a
 * wide margin, while a real mistake (a wrong slope, GELU's coefficient, a missed 1/255, sigmoid for
 * tanh) moves outputs by 1e-3 or more: each of those fails here.
 */
export const ATOL = 1e-5;
export const RTOL = 1e-5;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      // a command that could not start (ENOENT) has no stderr: its error says why
      const why = error && typeof error.code !== 'number' ? error.message : '';
      done({ code, stdout: String(stdout), stderr: String(stderr) + why });
    });
  });
}

let withTorch: Promise<string> | undefined;

/**
 * The python that compares predictions: $PYTHON when set; else the first of $PYTHON_TORCH, python3 and
 * /usr/bin/python3 (Debian's, with python3-torch) that has torch, numpy and safetensors, so that
 * load_model.py's torch.nn.Sequential is checked too wherever torch is installed; else python3.
 */
export function comparePython(): Promise<string> {
  withTorch ??= (async () => {
    if (process.env.PYTHON) return process.env.PYTHON;
    const candidates = [process.env.PYTHON_TORCH, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
    for (const p of candidates) if ((await run(p, ['-c', 'import torch, numpy, safetensors'])).code === 0) return p;
    return PYTHON;
  })();
  return withTorch;
}

/** Fails (never skips) when Python, numpy or safetensors is missing, saying what to install. */
export async function requirePython(): Promise<void> {
  const probe = await run(PYTHON, ['-c', 'import numpy, safetensors']);
  if (probe.code !== 0) {
    throw new Error(
      `${PYTHON} with numpy and safetensors is needed to run examples/python/load_model.py: ${INSTALL} ` +
        `(bash .ci/run does it).\n${probe.stderr.trim()}`,
    );
  }
}

/** An .npy file (format 1.0) of a row-major [rows, cols] array: '<f4' for floats, '|u1' for bytes. */
export function npy(data: Float32Array | Uint8Array, rows: number, cols: number): Uint8Array {
  const descr = data instanceof Uint8Array ? '|u1' : '<f4';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  header += `${' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`; // the data starts 64-aligned
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length); // little-endian host
  return out;
}
