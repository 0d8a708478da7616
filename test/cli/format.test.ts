import { describe, expect, it } from 'vitest';
import { formatConfusion, formatDuration, progressLine } from '../../src/cli/format.js';

describe('terminal formatting', () => {
  it('shows the progress of an epoch, the pace and the time left', () => {
    const line = progressLine(
      {
        epoch: 2,
        step: 188,
        stepsPerEpoch: 469,
        loss: 0.12345,
        accuracy: 0.96123,
        samples: 24_064,
        stepsPerSecond: 10,
        samplesPerSecond: 1280,
        elapsedMs: 60_000,
      },
      10,
    );
    // left: 8 more epochs of 469 steps and 281 steps of this one, at 10 steps/s = 403.3 s
    expect(line).toBe(
      'epoch 2/10 [##########..............] 188/469  10.0 steps/s  1,280 samples/s  loss 0.1235  acc 96.12%  ETA 6m43s',
    );
  });

  it('writes durations at a useful precision', () => {
    expect([0.4, 42, 245, 3599, 5400, 36_000].map(formatDuration)).toEqual([
      '0s',
      '42s',
      '4m05s',
      '59m59s',
      '1h30m',
      '10h00m',
    ]);
  });

  it('aligns a confusion matrix', () => {
    expect(
      formatConfusion([
        [5, 0],
        [12, 1000],
      ]),
    ).toBe('          0    1\n    0     5    0\n    1    12 1000');
  });
});
