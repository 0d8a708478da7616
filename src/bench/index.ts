// The benchmark suites, platform-neutral: `npm run bench` (src/cli/bench.ts) and demo/bench.html run them.
export * from './args';
export * from './case';
export * from './matmul';
export type { BenchSettings } from './measure';
export * from './run';
export * from './schema';
export * from './step';
export * from './table';
export * from './timer';
export * from './types';
export * from './verify';
