/**
 * expectClose: element-wise |gpu − ref| ≤ atol + rtol·|ref|, failing hard with the worst element,
 * its index, both values and the tolerance.
 */
import { expect } from 'vitest';

export interface Tolerance {
  atol: number;
  rtol: number;
}

export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  what = 'tensor',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const bound = tol.atol + tol.rtol * Math.abs(e);
    const err = Math.abs(a - e);
    if (!(err <= bound) && (worst < 0 || err - bound > worstExcess || Number.isNaN(err))) {
      worst = i;
      worstExcess = Number.isNaN(err) ? Infinity : err - bound;
    }
  }
  if (worst >= 0) {
    const a = actual[worst] as number;
    const e = expected[worst] as number;
    expect.fail(
      `${what}[${worst}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > atol ${tol.atol} + rtol ${tol.rtol}·|expected|)`,
    );
  }
}
