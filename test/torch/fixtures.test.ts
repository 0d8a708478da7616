/**
 * test/torch/fixtures.json holds PyTorch's own numbers for the definitions we say we match (RMSprop,
 * the layers), read by their tests so that CI compares with PyTorch without installing it. Here: the
 * file is well formed and says which torch wrote it, and — where a python with torch is found
 * ($PYTHON_TORCH, else Debian's /usr/bin/python3 with python3-torch) — it is exactly what
 * test/torch/fixtures.py writes now. Without torch that second check cannot run, and the test says so
 * in its output; the comparisons themselves run everywhere, against the committed numbers.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SCRIPT = `${HERE}fixtures.py`;
const TEXT = readFileSync(`${HERE}fixtures.json`, 'utf8');

function python(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { timeout: 120_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('PyTorch fixtures (test/torch/fixtures.json)', () => {
  it('name the torch that wrote them, and every case has its inputs and both precisions', () => {
    const fixtures = JSON.parse(TEXT) as Record<string, unknown>;
    expect(fixtures.torch).toMatch(/^\d+\.\d+/);
    const sections = Object.entries(fixtures).filter(([k]) => k !== 'torch');
    expect(sections.length).toBeGreaterThan(0);
    for (const [section, cases] of sections) {
      expect(Array.isArray(cases), section).toBe(true);
      for (const c of cases as Record<string, unknown>[]) {
        expect(typeof c.name, section).toBe('string');
        expect(c.f64, `${section}: ${c.name}`).toBeTypeOf('object');
        expect(c.f32, `${section}: ${c.name}`).toBeTypeOf('object');
      }
    }
  });

  it('are what fixtures.py writes, where a python with torch is installed', async () => {
    const candidates = [process.env.PYTHON_TORCH, '/usr/bin/python3'].filter((p): p is string => !!p);
    let found: string | undefined;
    for (const p of candidates) if ((await python(p, ['-c', 'import torch, numpy'])).code === 0) found ??= p;
    if (!found) {
      console.warn(
        `test/torch/fixtures.test.ts: no python with torch (tried ${candidates.join(', ')}), so fixtures.json was not regenerated; the tests still compare with it`,
      );
      return;
    }
    const run = await python(found, [SCRIPT, '--stdout']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(TEXT);
  });
});
