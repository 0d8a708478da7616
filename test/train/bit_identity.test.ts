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
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeAdapter } from '../../src/gpu/adapter.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { createMLP } from '../../src/mlp.js';
import { caseData, REFACTOR_CASES } from '../helpers/refactor_cases.js';

const FIXTURES = new URL('../fixtures/before-refactor/', import.meta.url);

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
