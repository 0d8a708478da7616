/**
 * The engine restructured into layer, head and optimizer definitions trains the same models as before,
 * bit for bit: the models in test/fixtures/before-refactor/ were saved by the engine before that change
 * (commit d249634) from the calls in test/helpers/refactor_cases.ts, and are compared with what the
 * engine saves now from the same calls. Adam is the exception made on purpose — its 1 − β now comes
 * from the CPU in double precision instead of f32 — and is compared within a tolerance.
 *
 * Bit identity holds on the adapter the fixtures were made on (recorded in their metadata: SwiftShader
 * with the direct kernels); another adapter rounds differently, and there the weights are compared to
 * within fp32 rounding.
 *
 * The same for files: test/fixtures/before-layers/ holds, for the same cases, a checkpoint taken in the
 * middle of the first epoch and the model at the end, written by the engine before layers became
 * definitions with one walker (commit d691ce3). Each model file loads and saves to the same bytes, and
 * each checkpoint resumes to the same model.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeAdapter } from '../../src/gpu/adapter.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { decodeCheckpoint } from '../../src/io/checkpoint_file.js';
import { decodeSafetensors, type SafetensorsFile } from '../../src/io/safetensors.js';
import { createMLP, loadMLP } from '../../src/mlp.js';
import { caseData, REFACTOR_CASES } from '../helpers/refactor_cases.js';

const FIXTURES = new URL('../fixtures/before-refactor/', import.meta.url);
const BEFORE_LAYERS = new URL('../fixtures/before-layers/', import.meta.url);

const read = (name: string) => new Uint8Array(readFileSync(new URL(name, BEFORE_LAYERS)));

/** Whether this context is the adapter and kernel family a fixture file was made with. */
function sameAdapterAs(file: SafetensorsFile, ctx: GpuContext): boolean {
  return (
    ctx.adapter !== undefined &&
    describeAdapter(ctx.adapter) === file.metadata.adapter &&
    ctx.kernelPreference === file.metadata.kernels
  );
}

describe('the same models as before the restructuring', () => {
  for (const c of REFACTOR_CASES) {
    it(`${c.name}${c.rtol ? ` (within ${c.rtol}: a change made on purpose)` : ': bit for bit'}`, async () => {
      const before = decodeSafetensors(new Uint8Array(readFileSync(new URL(`${c.name}.safetensors`, FIXTURES))));
      const mlp = await createMLP({ layers: c.layers, activation: c.activation, head: c.head, seed: 3 });
      const { x, labels, dense } = caseData(c);
      await mlp.fit(x, (labels ?? dense) as Uint32Array, c.fit);
      const now = decodeSafetensors(await mlp.save({ case: c.name }));
      const ctx = mlp.model.ctx;
      const sameAdapter =
        ctx.adapter !== undefined &&
        describeAdapter(ctx.adapter) === before.metadata.adapter &&
        ctx.kernelPreference === before.metadata.kernels;
      await mlp.destroy();
      if (!sameAdapter && !c.rtol) {
        console.log(
          `${c.name}: made on ${before.metadata.adapter}; here ${ctx.adapter ? describeAdapter(ctx.adapter) : '?'}: compared within 1e-5`,
        );
      }
      expect([...now.tensors.keys()]).toEqual([...before.tensors.keys()]);
      for (const [name, t] of before.tensors) {
        const got = now.tensors.get(name)?.data as Float32Array;
        if (!c.rtol && sameAdapter) {
          expect(Array.from(got), name).toEqual(Array.from(t.data));
          continue;
        }
        const scale = Math.max(...Array.from(t.data, Math.abs));
        const tol = (c.rtol ?? 1e-5) * scale;
        const worst = Math.max(...Array.from(t.data, (v, i) => Math.abs(v - (got[i] as number))));
        expect(worst, `${name}: largest difference ${worst} vs ${tol}`).toBeLessThanOrEqual(tol);
      }
    });
  }
});

describe('files written before layers became definitions', () => {
  for (const c of REFACTOR_CASES) {
    it(`${c.name}: the model file loads and saves to the same bytes`, async () => {
      const bytes = read(`${c.name}.model.safetensors`);
      const mlp = await loadMLP(bytes);
      const again = await mlp.save();
      await mlp.destroy();
      expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    });

    it(`${c.name}: the mid-epoch checkpoint resumes to the same model`, async () => {
      const expected = decodeSafetensors(read(`${c.name}.model.safetensors`));
      const checkpoint = decodeCheckpoint(read(`${c.name}.checkpoint.safetensors`));
      expect(checkpoint.step).toBeGreaterThan(0); // in the middle of epoch 1
      const mlp = await createMLP({ layers: c.layers, activation: c.activation, head: c.head, seed: 99 });
      const { x, labels, dense } = caseData(c);
      await mlp.fit(x, (labels ?? dense) as Uint32Array, {
        ...c.fit,
        checkpointEvery: 2,
        progressEvery: 1,
        resume: checkpoint,
      });
      const now = decodeSafetensors(await mlp.save());
      const same = sameAdapterAs(expected, mlp.model.ctx);
      await mlp.destroy();
      expect([...now.tensors.keys()]).toEqual([...expected.tensors.keys()]);
      for (const [name, t] of expected.tensors) {
        const got = now.tensors.get(name)?.data as Float32Array;
        if (same) expect(Array.from(got), name).toEqual(Array.from(t.data));
        else {
          const tol = 1e-5 * Math.max(...Array.from(t.data, Math.abs));
          const worst = Math.max(...Array.from(t.data, (v, i) => Math.abs(v - (got[i] as number))));
          expect(worst, `${name}: largest difference ${worst} vs ${tol}`).toBeLessThanOrEqual(tol);
        }
      }
    });
  }
});
