import { describe, expect, it } from 'vitest';
import { parseTrainArgs, TRAIN_DEFAULTS, TRAIN_HELP } from '../../src/cli/args.js';

describe('train command options', () => {
  it('has defaults, and parses every option in both --flag value and --flag=value forms', () => {
    expect(parseTrainArgs([])).toEqual(TRAIN_DEFAULTS);
    const a = parseTrainArgs([
      '--layers',
      '784,128,64,10',
      '--activation=tanh',
      '--epochs',
      '3',
      '--batch-size=64',
      '--lr',
      '0.01',
      '--optimizer',
      'adam',
      '--weight-decay',
      '1e-4',
      '--seed',
      '7',
      '--backend',
      'webgpu',
      '--out',
      'x.safetensors',
      '--limit',
      '1000',
      '--checkpoint',
      'ck.ckpt',
      '--checkpoint-every=100',
      '--resume',
      'old.ckpt',
    ]);
    expect(a).toMatchObject({
      layers: [784, 128, 64, 10],
      activation: 'tanh',
      epochs: 3,
      batchSize: 64,
      learningRate: 0.01,
      optimizer: 'adam',
      weightDecay: 1e-4,
      seed: 7,
      backend: 'webgpu',
      out: 'x.safetensors',
      limit: 1000,
      checkpoint: 'ck.ckpt',
      checkpointEvery: 100,
      resume: 'old.ckpt',
    });
    expect(parseTrainArgs(['--help']).help).toBe(true);
    expect(TRAIN_HELP).toMatch(/--batch-size N/);
  });

  it.each([
    [['--epochs', '0'], /--epochs "0" is invalid: expected an integer in 1\.\.10000/],
    [['--epochs', '2.5'], /--epochs "2.5" is invalid/],
    [['--lr', '-1'], /--lr "-1" is invalid: expected a number in \(0, 1000\]/],
    [['--lr', 'NaN'], /--lr "NaN" is invalid/],
    [['--lr', '0x10'], /--lr "0x10" is invalid: expected a number in \(0, 1000\]/],
    [['--momentum', '1'], /--momentum "1" is invalid: expected a number in \[0, 1\)/],
    [
      ['--optimizer', 'adam', '--momentum', '0.5'],
      /--momentum does not apply to --optimizer adam, whose settings are --lr, --beta1, --beta2, --eps, --weight-decay/,
    ],
    [['--layers', '784,0,10'], /--layers "0" is invalid/],
    [['--layers', '100,10'], /first width to be 784/],
    [['--layers', '784,12'], /last width to be 10/],
    [['--activation', 'swish'], /expected one of relu, sigmoid, tanh, linear/],
    [['--optimizer', 'lion'], /expected one of sgd, momentum, adam, adamw, rmsprop/],
    [['--backend', 'cuda'], /expected one of auto, webgpu, cpu/],
    [['--batch-size', '2000', '--limit', '1000'], /--batch-size 2000 is larger than the training set \(1000 images\)/],
    [['--epochs'], /--epochs needs a value/],
    [['--frobnicate'], /unknown option "--frobnicate"/],
    [['--checkpoint-every', '10'], /--checkpoint-every needs --checkpoint PATH/],
    [['--checkpoint', 'x', '--backend', 'cpu'], /--checkpoint and --resume need the WebGPU backend/],
    [['--resume', ''], /--resume "" is invalid: expected a file path/],
  ])('rejects %j before any work starts', (argv, message) => {
    expect(() => parseTrainArgs(argv)).toThrow(message);
  });

  it("takes every registered optimizer's settings as flags, with the library's ranges", () => {
    const a = parseTrainArgs(['--optimizer', 'adamw', '--weight-decay', '0.05', '--beta2', '0.99', '--eps', '1e-6']);
    expect(a).toMatchObject({ optimizer: 'adamw', weightDecay: 0.05, beta2: 0.99, eps: 1e-6 });
    for (const flag of ['--lr', '--momentum', '--beta1', '--beta2', '--eps', '--weight-decay']) {
      expect(TRAIN_HELP).toContain(flag);
    }
    expect(TRAIN_HELP).toMatch(/adamw \(AdamW\)/);
  });
});
