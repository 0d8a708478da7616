/**
 * TableError: a problem with a table's contents — its text, a column, a value — with where it is, so
 * that a page can point at the cell and a command can print it. The message says it all on its own.
 */
export class TableError extends Error {
  /** The 1-based line of the file (CSV, JSON lines), when the problem has one. */
  readonly line: number | undefined;
  /** The 0-based row of the table (after the header), when the problem has one. */
  readonly row: number | undefined;
  /** The column's name, when the problem is in one. */
  readonly column: string | undefined;

  constructor(message: string, where: { line?: number; row?: number; column?: string } = {}) {
    super(message);
    this.name = 'TableError';
    this.line = where.line;
    this.row = where.row;
    this.column = where.column;
  }
}

/** `"Island"` for a message: a column's name quoted, cut to 80 characters. */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 77)}...` : name);
}

/** The names a list offers, for a message: `"a", "b", "c"` (at most 20, then how many more). */
export function listNames(names: readonly string[], max = 20): string {
  const shown = names.slice(0, max).map(quoteName).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/** The name in `names` closest to `given` (case, spaces and edits), when one is close enough to suggest. */
export function closestName(given: string, names: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_\-.]+/g, '');
  const g = norm(given);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of names) {
    const d = editDistance(g, norm(name));
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.ceil(g.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return Number.POSITIVE_INFINITY;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
