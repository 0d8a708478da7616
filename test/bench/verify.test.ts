/** The pieces that keep a figure honest, without a GPU: the element checks, the schema, the options. */
import { describe, expect, it } from 'vitest';
import { defaultReportPath, parseBenchArgs } from '../../bench/args.js';
import { kernelCases, resolveBenchSettings } from '../../bench/run.js';
import { parseBenchReport, validateBenchReport } from '../../bench/schema.js';
import { summarise } from '../../bench/stats.js';
import { BENCH_SCHEMA, type BenchReport } from '../../bench/types.js';
import { CheckBuilder, sampleIndices } from '../../bench/verify.js';

describe('CheckBuilder', () => {
  const ref = Float64Array.from({ length: 100 }, (_, i) => Math.sin(i));

  it('passes values within tolerance and reports the largest error', () => {
    const got = Float32Array.from(ref, (v) => v + 1e-7);
    const check = new CheckBuilder('full', 'abs', 'test').abs('C', got, ref, { atol: 1e-6, rtol: 0 }).result();
    expect(check.verified).toBe(true);
    expect(check.elements).toBe(100);
    expect(check.maxError).toBeGreaterThan(0);
    expect(check.maxError).toBeLessThan(2e-7);
  });

  it('fails one wrong element, a NaN, and a wrong length, naming the worst', () => {
    const got = Float32Array.from(ref);
    got[37] += 1e-3;
    const one = new CheckBuilder('full', 'abs', 'test').abs('C', got, ref, { atol: 1e-5, rtol: 1e-5 }).result();
    expect(one.verified).toBe(false);
    expect(one.worst).toMatch(/^C\[37\]/);
    got[37] = Number.NaN;
    expect(new CheckBuilder('full', 'abs', 't').abs('C', got, ref, { atol: 1, rtol: 1 }).result().verified).toBe(false);
    const short = new CheckBuilder('full', 'abs', 't').abs('C', got.subarray(1), ref, { atol: 1, rtol: 1 }).result();
    expect(short.verified).toBe(false);
    expect(short.worst).toMatch(/GPU gave 99 values/);
  });

  it('checks only the sampled indices when given, and fails when nothing was compared', () => {
    const got = Float64Array.from(ref);
    got[50] = 99; // not sampled
    const check = new CheckBuilder('sampled', 'abs', 't')
      .abs('C', got, ref, { atol: 0, rtol: 0 }, [0, 10, 99])
      .result();
    expect(check.verified).toBe(true);
    expect(check.elements).toBe(3);
    expect(new CheckBuilder('full', 'abs', 't').result().verified).toBe(false);
  });

  it('relative rule: floors |ref| at 1e-3 of the tensor scale', () => {
    const r = Float64Array.of(1, 0, -0.5);
    const fine = new CheckBuilder('full', 'rel', 't').rel('x', Float32Array.of(1, 5e-7, -0.5), r, 1e-3).result();
    expect(fine.verified).toBe(true); // 5e-7 / 1e-3 = 5e-4
    const bad = new CheckBuilder('full', 'rel', 't').rel('x', Float32Array.of(1, 2e-6, -0.5), r, 1e-3).result();
    expect(bad.verified).toBe(false);
  });
});

describe('sampling and statistics', () => {
  it('samples distinct sorted indices including both ends', () => {
    const s = sampleIndices(1000, 50, 7);
    expect(s.length).toBe(50);
    expect(s[0]).toBe(0);
    expect(s[49]).toBe(999);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
    expect([...sampleIndices(5, 50, 7)]).toEqual([0, 1, 2, 3, 4]);
  });

  it('summarises median, extremes and quartiles', () => {
    expect(summarise([5, 1, 3, 2, 4])).toEqual({ median: 3, min: 1, max: 5, q1: 2, q3: 4 });
  });
});

describe('the suites', () => {
  it('quick: small sizes, model S only; full: 256…4096 in three forms and S, M, L', () => {
    const quick = kernelCases(true);
    const full = kernelCases(false);
    expect(quick.length).toBeLessThan(full.length);
    expect(quick.every((c) => !c.name.includes('(M ') && !c.name.includes('(L '))).toBe(true);
    for (const n of [256, 512, 1024, 2048, 4096]) {
      for (const form of ['A·B', 'A·Bᵀ', 'Aᵀ·B'])
        expect(full.map((c) => c.name)).toContain(`matmul ${form} ${n}×${n}×${n}`);
    }
    expect(new Set(full.map((c) => c.name)).size).toBe(full.length);
    expect(full.some((c) => c.name.includes('L layer 1 forward'))).toBe(true);
  });

  it('settings: refuses nonsense', () => {
    expect(resolveBenchSettings({ quick: true }).reps).toBe(3);
    expect(() => resolveBenchSettings({ reps: 0 })).toThrow(/reps = 0/);
    expect(() => resolveBenchSettings({ warmup: 1.5 })).toThrow(/warmup/);
  });
});

describe('options', () => {
  it('parses the flags and names the bad ones', () => {
    expect(parseBenchArgs(['--quick', '--out', 'x.json', '--suites', 'matmul,step', '--reps=4'])).toMatchObject({
      quick: true,
      out: 'x.json',
      suites: ['matmul', 'step'],
      reps: 4,
    });
    expect(() => parseBenchArgs(['--out'])).toThrow(/--out needs a value/);
    expect(() => parseBenchArgs(['--suites', 'matmul,conv'])).toThrow(/--suites "matmul,conv" is invalid/);
    expect(() => parseBenchArgs(['--max-figure-s', '-1'])).toThrow(/--max-figure-s "-1" is invalid/);
    expect(() => parseBenchArgs(['--quick=yes'])).toThrow(/--quick "yes" is invalid/);
    expect(() => parseBenchArgs(['bench'])).toThrow(/unknown option "bench"/);
    expect(parseBenchArgs(['--tune', 'on']).tune).toBe('on');
    expect(parseBenchArgs([]).tune).toBeUndefined();
    expect(() => parseBenchArgs(['--tune', 'maybe'])).toThrow(/--tune "maybe" is invalid: expected both, on or off/);
    expect(parseBenchArgs(['--models', 'S,S256']).models).toEqual(['S', 'S256']);
    expect(() => parseBenchArgs(['--models', 'S,XL'])).toThrow(
      /--models "S,XL" is invalid: expected comma-separated models from S, S256, M, L/,
    );
  });

  it("takes the race's rounds with --vs tfjs only", () => {
    expect(parseBenchArgs(['--vs', 'tfjs', '--rounds', '3'])).toMatchObject({ vs: 'tfjs', rounds: 3 });
    expect(parseBenchArgs(['--vs', 'tfjs']).rounds).toBeUndefined();
    expect(() => parseBenchArgs(['--vs', 'tfjs', '--rounds', '0'])).toThrow(
      /--rounds "0" is invalid: expected an integer in 1\.\.99/,
    );
    expect(() => parseBenchArgs(['--rounds', '3'])).toThrow('--rounds is for --vs tfjs. See --help.');
  });

  it('writes to bench-results/bench-<date>.json by default', () => {
    expect(defaultReportPath(new Date('2025-01-31T12:34:56.789Z'))).toBe(
      'bench-results/bench-2025-01-31T12-34-56.json',
    );
    // --setup, --tables and --vs write beside it (they once wrote to race-results/bench-<date>.json,
    // an unignored folder, by replacing the first "bench-" in the path)
    expect(defaultReportPath(new Date('2025-01-31T12:34:56.789Z'), 'race')).toBe(
      'bench-results/race-2025-01-31T12-34-56.json',
    );
  });
});

describe('validateBenchReport', () => {
  const good = (): BenchReport => ({
    schema: BENCH_SCHEMA,
    date: '2025-01-31T12:00:00.000Z',
    durationS: 1,
    mode: 'quick',
    environment: { runtime: 'node', version: 'v20' },
    adapter: { vendor: 'v', architecture: 'a', device: 'd', description: '', isSoftware: true },
    kernelPreference: 'direct',
    features: ['timestamp-query'],
    limits: { maxBufferSize: 1 },
    timing: {
      method: 'timestamp',
      quantized: false,
      resolutionNs: 1,
      tinyPassUs: 10,
      note: 'n',
      warmup: 1,
      reps: 3,
      targetSampleMs: 10,
      maxFigureS: 20,
    },
    figures: [
      {
        suite: 'matmul',
        name: 'matmul A·B 2×2×2',
        params: { M: 2 },
        status: 'ok',
        unit: 'GFLOP/s',
        work: 16,
        timing: 'timestamp',
        iterations: 10,
        samples: 3,
        timeMs: { median: 1, min: 1, max: 1, q1: 1, q3: 1 },
        value: 1,
        verified: true,
        check: {
          verified: true,
          method: 'full',
          elements: 4,
          measure: 'abs',
          maxError: 0,
          tolerance: 't',
          worst: 'w',
        },
      },
      {
        suite: 'step',
        name: 'step L',
        params: {},
        status: 'skipped',
        note: 'too big',
        unit: 'samples/s',
        work: 1,
        verified: false,
      },
    ],
  });

  it('accepts a well-formed report and round-trips through JSON', () => {
    expect(validateBenchReport(good())).toEqual([]);
    expect(parseBenchReport(JSON.stringify(good())).figures.length).toBe(2);
  });

  it('rejects what a reader could not trust', () => {
    const cases: [string, (r: BenchReport) => void, RegExp][] = [
      ['schema', (r) => ((r as { schema: string }).schema = 'other/1'), /report\.schema/],
      ['unverified ok', (r) => (r.figures[0].check!.verified = false), /verified/],
      ['untimed ok', (r) => delete r.figures[0].timeMs, /timeMs/],
      ['skipped without a note', (r) => delete r.figures[1].note, /needs a note/],
      ['bad median', (r) => (r.figures[0].timeMs!.median = 5), /min ≤ median ≤ max/],
      ['duplicate name', (r) => (r.figures[1].name = r.figures[0].name), /duplicate/],
      ['unknown unit', (r) => ((r.figures[0] as { unit: string }).unit = 'ops'), /unit/],
      ['timestamps without resolution', (r) => (r.timing.resolutionNs = null), /resolutionNs/],
    ];
    for (const [what, spoil, message] of cases) {
      const r = good();
      spoil(r);
      const problems = validateBenchReport(JSON.parse(JSON.stringify(r)));
      expect(problems.join('\n'), what).toMatch(message);
    }
    expect(() => parseBenchReport('{', 'x.json')).toThrow(/x.json is not JSON/);
    expect(validateBenchReport([])).toEqual(['report: expected a JSON object']);
  });
});
