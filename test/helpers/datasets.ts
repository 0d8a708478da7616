/**
 * Real tables for the tests: the vega-datasets package (a devDependency, BSD-3-Clause; each table's
 * own licence is in its datapackage.json: Palmer penguins CC0 1.0, cars from the StatLib archive
 * (distributed in 1982 for educational and scientific use), Seattle weather a U.S. Government work).
 * Nothing is downloaded at run time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The folder of the package's data files (its main module is build/index.js). */
export const VEGA_DATA = join(dirname(dirname(createRequire(import.meta.url).resolve('vega-datasets'))), 'data');

/** The path of a vega-datasets file, e.g. `penguins.json`. */
export function vegaPath(name: string): string {
  return join(VEGA_DATA, name);
}

/** The bytes of a vega-datasets file. */
export function vegaBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(vegaPath(name)));
}
