/** Seeded pseudo-random test inputs (the PRNG is the library's own, src/model/random.ts). */
import { mulberry32 } from '../../src/model/random.js';

export { mulberry32 };

/** n floats uniform in [−scale, scale), as Float32Array (the GPU's precision: the reference sees the same values). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array<ArrayBuffer> {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * scale;
  return out;
}

/** n integers uniform in [0, max). */
export function randomInts(n: number, seed: number, max: number): Uint32Array<ArrayBuffer> {
  const rand = mulberry32(seed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * max);
  return out;
}
