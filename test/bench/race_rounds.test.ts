/**
 * The race's rounds (bench/race.ts, `npm run bench -- --vs tfjs --rounds N`): every round is run and
 * kept, the order of the contenders alternates from round to round, each contender's median run is
 * the case's, and a round that failed or did not learn is not hidden by the others. Our contender is
 * a stand-in with set totals here (no GPU, no TF.js): what is tested is the bookkeeping.
 */
import { describe, expect, it } from 'vitest';
import { formatRace, medianRun, type RaceCase, type RaceRun, runRace } from '../../bench/race.js';
import type { MLP } from '../../src/mlp.js';

const run = (totalMs: number, status: RaceRun['status'] = 'ok'): RaceRun => ({
  contender: 'webgpu-mlp',
  status,
  ...(status === 'ok' ? { totalMs, setupMs: 0, epochMs: totalMs, firstLoss: 1, finalLoss: 0.1 } : { note: 'boom' }),
});

describe('medianRun', () => {
  it('is the median by total time, the lower middle for an even count, and a failed run if any', () => {
    expect(medianRun([run(30), run(10), run(20)]).totalMs).toBe(20);
    expect(medianRun([run(40), run(10), run(30), run(20)]).totalMs).toBe(20);
    expect(medianRun([run(7)]).totalMs).toBe(7);
    expect(medianRun([run(10), run(0, 'error'), run(20)]).status).toBe('error');
    expect(() => medianRun([])).toThrow('medianRun: no runs');
  });
});

describe('runRace with rounds', () => {
  const table: RaceCase = {
    name: 'table 3×2',
    data: 'table',
    layers: [3, 4, 2],
    rows: 12,
    batch: 12,
    epochs: 2,
    learningRate: 0.01,
  };

  /** A stand-in for createMLP whose fits report these last losses, one fit after the other. */
  function standIn(finalLosses: number[]) {
    const fits: number[] = [];
    const createMLP = async () =>
      ({
        fit: async () => {
          const i = fits.length;
          fits.push(i);
          await new Promise((r) => setTimeout(r, 5 * (i + 1))); // later rounds slower: the median is the middle one
          return [
            { epoch: 1, trainLoss: 1, setupMs: 1 },
            { epoch: 2, trainLoss: finalLosses[i] ?? 0.1 },
          ];
        },
        destroy: async () => {},
      }) as unknown as MLP;
    return { fits, createMLP };
  }

  it('runs every round, keeps every run and reports the median one', async () => {
    const { fits, createMLP } = standIn([0.1, 0.2, 0.3]);
    const lines: string[] = [];
    const report = await runRace({
      cases: [table],
      contenders: ['webgpu-mlp'],
      rounds: 3,
      createMLP,
      tfjs: async () => {
        throw new Error('not in this test');
      },
      log: (line) => lines.push(line),
      environment: 'test',
      adapter: 'none',
    });
    expect(fits).toHaveLength(3);
    expect(report.rounds).toBe(3);
    const [result] = report.results;
    expect(result?.rounds?.map((r) => r.map((x) => x.finalLoss))).toEqual([[0.1], [0.2], [0.3]]);
    const totals = (result?.rounds ?? []).map((r) => r[0]?.totalMs as number);
    expect(result?.runs[0]?.totalMs).toBe([...totals].sort((a, b) => a - b)[1]);
    expect(lines.filter((l) => l.includes('(round 2 of 3)'))).toHaveLength(1);
    expect(formatRace(report).split('\n')[0]).toMatch(/each contender's median of 3 rounds$/);
  });

  it('is void when any round did not learn, and a single round reports no rounds', async () => {
    const chance = Math.log(2);
    const options = {
      cases: [table],
      contenders: ['webgpu-mlp' as const],
      tfjs: async () => {
        throw new Error('not in this test');
      },
      environment: 'test',
      adapter: 'none',
    };
    const stuck = await runRace({ ...options, rounds: 3, createMLP: standIn([0.1, chance, 0.1]).createMLP });
    expect(stuck.results[0]?.valid).toBe(false);
    expect(stuck.results[0]?.note).toMatch(/did not learn/);
    const once = await runRace({ ...options, createMLP: standIn([0.1]).createMLP });
    expect(once.rounds).toBeUndefined();
    expect(once.results[0]?.rounds).toBeUndefined();
    expect(once.results[0]?.valid).toBe(true);
    await expect(runRace({ ...options, rounds: 0, createMLP: standIn([]).createMLP })).rejects.toThrow(
      'rounds = 0 is invalid: expected an integer ≥ 1',
    );
  });
});
