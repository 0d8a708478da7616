/**
 * The test tiers of vite.config.ts (`npm run test:fast` runs `unit`, `npm test` all three): every
 * test file is in exactly one, and each file a tier names by path exists (a renamed file would
 * otherwise fall silently into `integration`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TEST_TIERS } from '../../vite.config.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The tiers' patterns are `dir/**\/*.test.ts` (a folder) or a file's path; `**\/*.test.ts` is everything. */
function matches(pattern: string, file: string): boolean {
  const folder = pattern.match(/^(.*?)\*\*\/\*\.test\.ts$/);
  if (folder) return file.startsWith(folder[1] as string) && file.endsWith('.test.ts');
  return file === pattern;
}

const files = readdirSync(`${ROOT}/test`, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => `test/${f}`)
  .sort();

describe('test tiers', () => {
  it('every test file is in exactly one tier, and the tiers are unit, integration, e2e', () => {
    expect(TEST_TIERS.map((t) => t.name)).toEqual(['unit', 'integration', 'e2e']);
    const tiersOf = (file: string) =>
      TEST_TIERS.filter(
        (t) => t.include.some((p) => matches(p, file)) && !t.exclude?.some((p) => matches(p, file)),
      ).map((t) => t.name);
    const wrong = files.map((f) => [f, tiersOf(f)] as const).filter(([, tiers]) => tiers.length !== 1);
    expect(wrong).toEqual([]);
    expect(files.length).toBeGreaterThan(60);
  });

  it('every file a tier names by its path exists', () => {
    const named = TEST_TIERS.flatMap((t) => [...t.include, ...(t.exclude ?? [])]).filter((p) => !p.includes('*'));
    expect(named.filter((p) => !existsSync(`${ROOT}/${p}`))).toEqual([]);
  });
});
