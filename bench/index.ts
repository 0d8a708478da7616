// The benchmark suites, platform-neutral: `npm run bench` (src/cli/bench.ts) and demo/bench.html run them.
export * from './args.js';
export * from './case.js';
export * from './matmul.js';
export type { BenchSettings } from './measure.js';
export * from './run.js';
export * from './schema.js';
export * from './step.js';
export * from './table.js';
export * from './timer.js';
export * from './tune.js';
export * from './types.js';
export * from './verify.js';
