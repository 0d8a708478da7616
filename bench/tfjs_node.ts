/**
 * TF.js for the race in Node (`npm run bench -- --vs tfjs`): loaded on first use from node_modules
 * (devDependencies; external to the bench build), its webgpu backend on Dawn's GPU — the same
 * runtime and adapter as ours, given to TF.js as `navigator.gpu` — and its wasm backend from the
 * package's .wasm files.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getGpu } from '../src/gpu/device.js';
import type { Tfjs, TfjsLoader } from './race.js';

export function nodeTfjsLoader(): TfjsLoader {
  let loaded: Promise<Omit<Tfjs, 'version'> & { version: string }> | undefined;
  const load = async () => {
    // TF.js's webgpu backend asks navigator.gpu for its adapter; Node 20 has no navigator.
    if (!(globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu) {
      const gpu = await getGpu();
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
    const names = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-webgpu'];
    const [tf, tfl] = await Promise.all(names.map((name) => import(/* @vite-ignore */ name)));
    const wasm = await import(/* @vite-ignore */ '@tensorflow/tfjs-backend-wasm');
    const dir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(`${join(dir, 'dist')}/`);
    return { tf, tfl, version: String(tf.version_core) };
  };
  return async (backend) => {
    loaded ??= load();
    const t = await loaded;
    if (!(await t.tf.setBackend(backend))) throw new Error(`TF.js could not start its ${backend} backend here`);
    await t.tf.ready();
    return t;
  };
}
