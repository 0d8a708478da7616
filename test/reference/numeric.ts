// Small numeric helpers for the reference tests.

/** Tolerance for every finite-difference check: the reference backward must agree to this relative error. */
export const FD_REL_TOL = 1e-6;

/** Fourth-order central difference of f at x: truncation O(h⁴), so h = 1e-4 is accurate to ~1e-12. */
export function centralDiff(f: (x: number) => number, x: number, h = 1e-4): number {
  return (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h);
}

/** |a − n| / max(|a| + |n|, 1e-8), the same measure gradCheckRef reports. */
export function relError(a: number, n: number): number {
  return Math.abs(a - n) / Math.max(Math.abs(a) + Math.abs(n), 1e-8);
}

/** Largest |a[i] − b[i]|; Infinity on a length mismatch or a NaN. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Number.isNaN(d) ? Infinity : Math.max(max, d);
  }
  return max;
}

/** True when every element is finite. */
export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
