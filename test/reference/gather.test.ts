import { describe, expect, it } from 'vitest';
import { gatherRef } from '../../src/reference/gather.js';

describe('gatherRef', () => {
  it('copies the indexed rows, scaled, and fills rows whose index is out of range', () => {
    const source = [1, 2, 3, 4, 5, 6]; // [3, 2]
    const out = new Float64Array(6);
    gatherRef(source, 3, 2, [9, 2, 0, 3], 1, 3, out, 0.5, -1);
    expect(Array.from(out)).toEqual([2.5, 3, 0.5, 1, -1, -1]);
  });

  it('rejects too few indices', () => {
    expect(() => gatherRef([1, 2], 2, 1, [0, 1], 1, 2, new Float64Array(2))).toThrow(
      'indices has length 2, expected at least start + rows = 3',
    );
  });
});
