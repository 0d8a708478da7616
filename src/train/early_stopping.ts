/**
 * Early stopping: after each epoch, the monitored quantity (a validation loss, say) is compared with
 * the best so far; after `patience` epochs in a row without an improvement of more than `minDelta` the run
 * ends, and with `restoreBest` the network is put back to where it was after its best epoch — its
 * parameters and optimizer state, exactly (a snapshot taken then, not a re-computation).
 * After Keras' EarlyStopping callback (monitor, patience, min_delta, restore_best_weights); unlike
 * TF.js's (whose documentation calls restoring unsupported; its newer source restores the weights only),
 * it restores by default, the optimizer state with the weights.
 */
import type { EarlyStoppingState } from '../io/checkpoint_file.js';
import { checkKeys, fail, formatValue, resolveParams } from '../params.js';

/** The quantities an epoch reports that early stopping can watch. */
export type Monitor = 'testLoss' | 'testAccuracy' | 'trainLoss' | 'trainAccuracy';

const MONITORS: readonly Monitor[] = ['testLoss', 'testAccuracy', 'trainLoss', 'trainAccuracy'];

/** FitOptions.earlyStopping: every field optional. */
export interface EarlyStoppingOptions {
  /** Default `'testLoss'` with validation data, else `'trainLoss'`. Losses must fall, accuracies rise. */
  monitor?: Monitor;
  /**
   * The run ends after this many epochs in a row without improvement (at least one), as Keras counts.
   * Default 0: the first epoch that does not improve ends it.
   */
  patience?: number;
  /** How much the quantity must improve to count. Default 0. */
  minDelta?: number;
  /** Put back the parameters (and optimizer state) of the best epoch when the run ends. Default true. */
  restoreBest?: boolean;
}

export type EarlyStopping = Required<EarlyStoppingOptions>;

/** What early stopping did, reported on the last epoch of the run. */
export interface EarlyStoppingResult {
  /** True when it ended the run before its last epoch. */
  stopped: boolean;
  /** The epoch with the best value of the monitored quantity, and that value. */
  bestEpoch: number;
  best: number;
  /** True when the parameters (and optimizer state) were put back to those after `bestEpoch`. */
  restored: boolean;
}

const SETTINGS = {
  patience: { default: 0, min: 0, max: 1e6, integer: true, doc: 'epochs without improvement before stopping' },
  minDelta: { default: 0, min: 0, max: Number.MAX_VALUE, doc: 'the least change that counts as an improvement' },
} as const;

/** Checks FitOptions.earlyStopping; `validated` says whether the run has validation data. */
export function resolveEarlyStopping(
  value: unknown,
  validated: boolean,
  name = 'options.earlyStopping',
): EarlyStopping | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(name, value, 'an object { monitor, patience, minDelta, restoreBest } (each optional)');
  }
  const given = value as EarlyStoppingOptions;
  checkKeys(name, given, ['monitor', 'patience', 'minDelta', 'restoreBest']);
  const { patience, minDelta } = resolveParams(name, SETTINGS, given as Record<string, unknown>, [
    'monitor',
    'restoreBest',
  ]);
  const monitor = given.monitor === undefined ? (validated ? 'testLoss' : 'trainLoss') : given.monitor;
  if (!MONITORS.includes(monitor)) fail(`${name}.monitor`, monitor, MONITORS.map((m) => `'${m}'`).join(', '));
  if (monitor.startsWith('test') && !validated) {
    throw new Error(
      `${name}.monitor = ${formatValue(monitor)} needs validation data: give options.validation or options.validationSplit, or monitor 'trainLoss'`,
    );
  }
  if (given.restoreBest !== undefined && typeof given.restoreBest !== 'boolean') {
    fail(`${name}.restoreBest`, given.restoreBest, 'true or false');
  }
  return { monitor, patience, minDelta, restoreBest: given.restoreBest ?? true };
}

/** What the stopper needs of the trainer: its state, copied out and put back. */
interface Restorable {
  snapshot(): Promise<unknown>;
  restore(state: unknown): Promise<void>;
}

/**
 * Whether two early stopping settings are the same (a resumed run must stop as the run it continues);
 * undefined for none.
 */
export function sameEarlyStopping(
  a: EarlyStoppingState['settings'] | undefined,
  b: EarlyStoppingState['settings'] | undefined,
): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.monitor === b.monitor && a.patience === b.patience && a.minDelta === b.minDelta && a.restoreBest === b.restoreBest
  );
}

/**
 * One run's early stopping: fed every epoch's result, it says when to stop and restores the best. Its
 * state goes into every checkpoint (`state()`), and a resumed run starts from it (`from`), so that it
 * stops and restores exactly as the run it continues.
 */
export class EarlyStopper {
  private best = Number.NaN;
  private bestEpoch = 0;
  private bestState: unknown;
  private wait = 0;

  constructor(
    private readonly settings: EarlyStopping,
    private readonly trainer: Restorable,
    from?: EarlyStoppingState,
  ) {
    if (from) {
      this.best = from.best;
      this.bestEpoch = from.bestEpoch;
      this.bestState = from.bestState;
      this.wait = from.wait;
    }
  }

  /** Where it stands: its settings, the best value and epoch, the epochs waited, the state after the best epoch. */
  state(): EarlyStoppingState {
    const { monitor, patience, minDelta, restoreBest } = this.settings;
    return {
      settings: { monitor, patience, minDelta, restoreBest },
      best: this.best,
      bestEpoch: this.bestEpoch,
      wait: this.wait,
      ...(this.bestState !== undefined && { bestState: this.bestState }),
    };
  }

  /**
   * Takes an epoch's result (on the last epoch of the run, `last`); returns true when the run must end
   * now. On the epoch that ends the run, the result gets `earlyStopping`, and with restoreBest the
   * trainer is put back to its state after the best epoch.
   */
  async after(
    result: Partial<Record<Monitor, number>> & { epoch: number; earlyStopping?: EarlyStoppingResult },
    last: boolean,
    /** The trainer's state after this epoch, when it is no longer the trainer's own (pipelined epochs). */
    snapshot: () => Promise<unknown> = () => this.trainer.snapshot(),
  ): Promise<boolean> {
    const { monitor, minDelta, patience, restoreBest } = this.settings;
    const value = result[monitor];
    const sign = monitor.endsWith('Loss') ? -1 : 1; // losses improve downwards
    const improved =
      value !== undefined &&
      Number.isFinite(value) &&
      (Number.isNaN(this.best) || sign * (value - this.best) > minDelta);
    if (improved) {
      this.best = value;
      this.bestEpoch = result.epoch;
      this.bestState = restoreBest ? await snapshot() : undefined;
      this.wait = 0;
    } else {
      this.wait++;
    }
    const stop = !improved && this.wait >= Math.max(1, patience); // as Keras and TF.js count
    if (!stop && !last) return false;
    const restored = restoreBest && this.bestState !== undefined && this.bestEpoch !== result.epoch;
    if (restored) await this.trainer.restore(this.bestState);
    result.earlyStopping = { stopped: stop && !last, bestEpoch: this.bestEpoch, best: this.best, restored };
    return stop;
  }
}
