/**
 * The time-to-accuracy figure (src/bench/mnist.ts) on a slice of MNIST, so that it finishes in
 * seconds on SwiftShader: its check, its stopping rule, its budget and its place in the report.
 * (The real figure, all 60,000 images to 98% of the 10,000 test images: `npm run bench -- --suites mnist`.)
 */
import { describe, expect, it } from 'vitest';
import { MNIST_RUN } from '../../bench/mnist.js';
import { runBench } from '../../bench/run.js';
import { validateBenchReport } from '../../bench/schema.js';
import type { MnistSplit } from '../../src/data/mnist.js';
import { loadMnistNode } from '../../src/data/mnist_node.js';
import { useGpuContext } from '../helpers/gpu.js';

const gpu = useGpuContext();
const environment = { runtime: 'node' as const, version: 'test' };

/** The first n images of a split. */
function slice(split: MnistSplit, n: number): MnistSplit {
  return { ...split, images: split.images.subarray(0, n * 784), labels: split.labels.subarray(0, n), count: n };
}

describe('bench: MNIST to 98%', () => {
  it('trains until the held-out accuracy reaches the target, timing the training and evaluations only', async () => {
    const mnist = await loadMnistNode();
    // 512 training images, judged on themselves: 98% comes within a few epochs.
    const train = slice(mnist.train, 512);
    const lines: string[] = [];
    const report = await runBench(gpu(), {
      quick: true,
      suites: ['mnist'],
      environment,
      mnist: async () => ({ train, test: train }),
      log: (l) => lines.push(l),
    });
    console.log(lines.join('\n'));
    expect(validateBenchReport(report)).toEqual([]);
    // untuned and tuned (the tuning, of every row count the run uses, outside the clock)
    expect(report.figures.map((g) => g.params.tuned)).toEqual([false, true]);
    const tuned = report.figures[1];
    expect(tuned?.status, tuned?.note).toBe('ok');
    expect(tuned?.params.tuneMs).toBeGreaterThan(0);
    expect(String(tuned?.params.picks)).toMatch(/A·B 128×256×784 \+bias \+relu → /);
    const [f] = report.figures;
    expect(f.status, f.note).toBe('ok');
    expect(f.check?.verified).toBe(true);
    expect(f.check?.maxError).toBeLessThan(1e-4);
    const epochs = f.params.epochs as number;
    expect(f.params.testAccuracy).toBeGreaterThanOrEqual(MNIST_RUN.target);
    expect(f.work).toBe(epochs * 512);
    expect(f.value).toBeCloseTo(f.work / ((f.timeMs?.median ?? 0) / 1000), 6);
    expect(f.note).toMatch(new RegExp(`after ${epochs} epochs in \\d+\\.\\d\\d s, evaluations included`));
    // one log line per epoch, the last one at or above the target
    const epochLines = lines.filter((l) => /^\s+epoch \d+: test accuracy/.test(l));
    expect(epochLines).toHaveLength(epochs + (tuned?.params.epochs as number));
  });

  it('is skipped, saying why, without data or past its time budget', async () => {
    const none = await runBench(gpu(), { quick: true, suites: ['mnist'], environment, tune: 'off' });
    expect(none.figures[0]).toMatchObject({ status: 'skipped', note: expect.stringMatching(/no MNIST data here/) });

    const mnist = await loadMnistNode();
    const slow = await runBench(gpu(), {
      quick: true,
      suites: ['mnist'],
      environment,
      maxFigureS: 1e-3,
      tune: 'off',
      mnist: async () => ({ train: slice(mnist.train, 256), test: slice(mnist.test, 256) }),
    });
    expect(slow.figures[0]).toMatchObject({
      status: 'skipped',
      note: expect.stringMatching(
        /^not at 98% within the 0\.001 s figure budget \(--max-figure-s\): \d+\.\d\d% after 1 epochs/,
      ),
    });
  });

  it('is left out of quick runs unless named', async () => {
    const report = await runBench(gpu(), { quick: true, suites: ['optimizer'], environment, mnist: loadMnistNode });
    expect(report.figures.some((f) => f.suite === 'mnist')).toBe(false);
  });
});
