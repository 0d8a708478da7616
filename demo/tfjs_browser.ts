/**
 * TF.js for the bench page's race (bench/race.ts), imported only when a race starts (a chunk of its
 * own: the library and the rest of the page never load it): core, layers, the webgpu backend on the
 * page's navigator.gpu, and the wasm backend with its .wasm files served by Vite.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import plain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { TfjsLoader } from '../bench/race.js';

setWasmPaths({
  'tfjs-backend-wasm.wasm': plain,
  'tfjs-backend-wasm-simd.wasm': simd,
  'tfjs-backend-wasm-threaded-simd.wasm': threaded,
});

export const loadTfjs: TfjsLoader = async (backend) => {
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js could not start its ${backend} backend in this browser`);
  await tf.ready();
  return { tf, tfl, version: tf.version_core };
};
