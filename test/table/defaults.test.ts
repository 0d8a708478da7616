/**
 * The table defaults' one home (src/table/defaults.ts): the command, the demo's table page and the
 * benchmark read them there, and epochsFor gives about TARGET_STEPS steps within 10 to 300 epochs.
 */
import { describe, expect, it } from 'vitest';
import { parseTableTrainArgs, TABLE_TRAIN_DEFAULTS } from '../../src/cli/table_train.js';
import { EPOCH_RANGE, epochsFor, TABLE_DEFAULTS, TARGET_STEPS } from '../../src/table/defaults.js';

describe('table defaults', () => {
  it('epochsFor: about TARGET_STEPS steps, at least 10 and at most 300 epochs', () => {
    expect(TARGET_STEPS).toBe(3000);
    expect(EPOCH_RANGE).toEqual([10, 300]);
    expect(epochsFor(1169, 32)).toBe(82); // seattle-weather's training rows: 37 steps an epoch
    expect(epochsFor(267, 32)).toBe(300); // penguins': 9 steps an epoch, 334 capped
    expect(epochsFor(100_000, 32)).toBe(10); // 3,125 steps an epoch
    expect(epochsFor(5, 32)).toBe(300); // a batch larger than the rows: one step an epoch
    expect(epochsFor(0, 32)).toBe(300); // no rows: no NaN
  });

  it('are what webgpu-mlp train takes when given only the data and the target', () => {
    const args = parseTableTrainArgs(['data.csv', '--target', 'y']);
    const { hidden, activation, batchSize, optimizer, validation, patience, scaling, seed } = args;
    expect({ hidden, activation, batchSize, optimizer, validation, patience, scaling, seed }).toEqual({
      ...TABLE_DEFAULTS,
      hidden: [...TABLE_DEFAULTS.hidden],
    });
    expect(args.epochs).toBeUndefined(); // from the data's size: epochsFor
    expect(TABLE_TRAIN_DEFAULTS.hidden).not.toBe(TABLE_DEFAULTS.hidden); // a copy the parser may change
    expect(Object.isFrozen(TABLE_DEFAULTS) && Object.isFrozen(TABLE_DEFAULTS.hidden)).toBe(true);
  });
});
