/**
 * Which table value a value is, without importing the table classes: the MLP recognises table rows
 * here and loads the table code (src/table/network.ts) only when it meets them, so that an application
 * that trains on typed arrays does not carry it. Table and TableData mark their instances.
 */

/** The mark of Table and TableData instances (a registered symbol: the same across copies of the library). */
export const TABLE_KIND: unique symbol = Symbol.for('webgpu-mlp.tableKind') as never;

/** `'table'` for a Table, `'data'` for TableData (encoded rows), undefined otherwise. */
export function tableKind(value: unknown): 'table' | 'data' | undefined {
  const kind =
    typeof value === 'object' && value !== null ? (value as { [TABLE_KIND]?: unknown })[TABLE_KIND] : undefined;
  return kind === 'table' || kind === 'data' ? kind : undefined;
}

/** Whether a value is rows by name: TableData, a Table, or a non-empty array of row objects (not numbers). */
export function isNamedRows(value: unknown): boolean {
  if (tableKind(value)) return true;
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    typeof value[0] === 'object' &&
    value[0] !== null &&
    !Array.isArray(value[0]) &&
    !ArrayBuffer.isView(value[0])
  );
}
