/**
 * The dropout twin (src/reference/dropout.ts): the hash, the masks it draws (a pure function of the
 * element, step, seed and block), the keep rate, and the inverted scaling forward and backward.
 */
import { describe, expect, it } from 'vitest';
import {
  dropoutBackwardRef,
  dropoutForwardRef,
  dropoutMaskRef,
  dropoutThreshold,
  pcg4d,
} from '../../src/reference/dropout.js';

describe('dropout mask (pcg4d)', () => {
  it('pcg4d is 32-bit integer arithmetic: values pinned (computed apart with Python integers mod 2³²)', () => {
    expect([
      pcg4d(0, 0, 0, 0),
      pcg4d(1, 0, 0, 0),
      pcg4d(0, 1, 0, 0),
      pcg4d(7, 3, 1, 2),
      pcg4d(0xffffffff, 5, 9, 1),
    ]).toEqual([251852841, 188542915, 714961320, 2658993754, 2439228266]);
  });

  it('keeps a fraction 1 − p of 100,000 units (within 4σ), for p = 0.1, 0.5, 0.9', () => {
    for (const p of [0.1, 0.5, 0.9]) {
      const n = 100_000;
      const kept = dropoutMaskRef({ seed: 7, step: 3, block: 1 }, p, n).reduce((s, v) => s + v, 0);
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(kept - n * (1 - p))).toBeLessThan(4 * sigma);
    }
    expect(dropoutThreshold(0)).toBe(0);
    expect(dropoutMaskRef({ seed: 1, step: 1, block: 0 }, 0, 1000).every((v) => v === 1)).toBe(true);
  });

  it('a pure function of (element, step, seed, block): the same arguments draw the same mask, any other a different one', () => {
    const base = { seed: 5, step: 10, block: 2 };
    const mask = (s: typeof base) => Array.from(dropoutMaskRef(s, 0.5, 512)).join('');
    expect(mask(base)).toBe(mask({ ...base }));
    for (const other of [
      { ...base, seed: 6 },
      { ...base, step: 11 },
      { ...base, block: 3 },
    ]) {
      expect(mask(other)).not.toBe(mask(base));
    }
    // neighbouring masks are not shifted copies of each other (a weak hash would give that)
    const a = dropoutMaskRef(base, 0.5, 513);
    const b = dropoutMaskRef({ ...base, step: 11 }, 0.5, 513);
    let same = 0;
    for (let i = 0; i < 512; i++) same += a[i + 1] === b[i] ? 1 : 0;
    expect(Math.abs(same - 256)).toBeLessThan(4 * 16); // like independent coins: 256 ± 4σ
  });
});

describe('dropoutForwardRef / dropoutBackwardRef', () => {
  it('kept units scaled by 1/(1 − p), dropped ones 0; the backward the same map (the mask a constant)', () => {
    const mask = Uint8Array.of(1, 0, 1, 1);
    const y = new Float64Array(4);
    dropoutForwardRef([1, 2, -3, 4], mask, 0.75, y);
    expect(Array.from(y)).toEqual([4, 0, -12, 16]);
    const dx = new Float64Array(4);
    dropoutBackwardRef([1, 1, 1, 1], mask, 0.75, dx);
    expect(Array.from(dx)).toEqual([4, 0, 4, 4]);
  });
});
