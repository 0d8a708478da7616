import { describe, expect, it } from 'vitest';
import { argmaxRef, correctRowsRef, countCorrectRef } from '../../src/reference/argmax.js';

describe('argmaxRef', () => {
  it('picks the largest column, the first one on ties', () => {
    const z = Float64Array.from([1, 3, 2, 5, 5, 5, -1, -1, 0, 2, 9, 9]); // [4, 3]
    const out = new Uint32Array(4);
    argmaxRef(z, 4, 3, out);
    expect(Array.from(out)).toEqual([1, 0, 2, 1]);
  });
});

describe('countCorrectRef', () => {
  const z = Float64Array.from([0.1, 2, -1, 3, 0, 0, 1, 1, 1]); // [3, 3], argmax [1, 0, 0]

  it('softmax head, labels', () => {
    expect(countCorrectRef(z, 3, 3, { kind: 'labels', labels: Uint32Array.from([1, 0, 2]) }, 'softmax')).toBe(2);
  });

  it('softmax head, dense targets: compares against the target argmax', () => {
    const y = Float64Array.from([0, 1, 0, 0.2, 0.7, 0.1, 0.5, 0.5, 0]);
    expect(countCorrectRef(z, 3, 3, { kind: 'dense', values: y }, 'softmax')).toBe(2);
  });

  it('sigmoid head: (z > 0) = (y > 0.5), per element', () => {
    const zs = Float64Array.from([1, -1, 0, 2]); // [2, 2]
    const y = Float64Array.from([0.9, 0.1, 0.4, 0.5]);
    // 1>0 & .9>.5 ✓; −1 & .1 ✓; 0 (not > 0) & .4 ✓; 2>0 & .5 (not > .5) ✗
    expect(countCorrectRef(zs, 2, 2, { kind: 'dense', values: y }, 'sigmoid')).toBe(3);
  });

  it('validates labels and refuses labels for the sigmoid head', () => {
    expect(() => countCorrectRef(z, 3, 3, { kind: 'labels', labels: Uint32Array.from([1, 3, 0]) }, 'softmax')).toThrow(
      'labels[1] = 3 is outside 0..2',
    );
    expect(() => countCorrectRef(z, 3, 3, { kind: 'labels', labels: Uint32Array.from([1, 0, 0]) }, 'sigmoid')).toThrow(
      'the sigmoid head needs dense targets',
    );
  });
});

describe('correctRowsRef', () => {
  const z = Float64Array.from([0.1, 2, -1, 3, 0, 0, 1, 1, 1]); // [3, 3], argmax [1, 0, 0]

  it('softmax head: one flag per row, summing to countCorrectRef', () => {
    const targets = { kind: 'labels', labels: Uint32Array.from([1, 0, 2]) } as const;
    const out = new Uint32Array(3);
    correctRowsRef(z, 3, 3, targets, 'softmax', out);
    expect(Array.from(out)).toEqual([1, 1, 0]);
    const dense = { kind: 'dense', values: Float64Array.from([0, 1, 0, 0.2, 0.7, 0.1, 0.5, 0.5, 0]) } as const;
    correctRowsRef(z, 3, 3, dense, 'softmax', out);
    expect(Array.from(out)).toEqual([1, 0, 1]);
    expect(out.reduce((s, v) => s + v, 0)).toBe(countCorrectRef(z, 3, 3, dense, 'softmax'));
  });

  it('sigmoid head: the number of correct outputs per row', () => {
    const zs = Float64Array.from([1, -1, 0, 2]); // [2, 2]
    const y = Float64Array.from([0.9, 0.1, 0.4, 0.5]);
    const out = new Uint32Array(2);
    correctRowsRef(zs, 2, 2, { kind: 'dense', values: y }, 'sigmoid', out);
    expect(Array.from(out)).toEqual([2, 1]);
  });
});
