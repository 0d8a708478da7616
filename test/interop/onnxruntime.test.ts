/**
 * ONNX export end to end in Node: networks trained here on the GPU, exported with `toOnnx`, run by
 * onnxruntime-node (its CPU execution provider): the outputs must be `mlp.predict`'s within 1e-6
 * (see compareOutputs for the one exception, and why), for every activation and head on random
 * inputs, for every layer kind (LayerNorm, BatchNorm1d, dropout) alone and together before every
 * head, and for five networks trained on MNIST (classifiers as small as [784, 64, 10] and as large
 * as npm run train's [784, 512, 10], one with BatchNorm1d, dropout and LayerNorm, a regression and
 * a multi-label network), at batch sizes 1 and 1,000. The largest difference per case, and each
 * side's from the float64 outputs, is printed at the end. The networks are
 * test/helpers/onnx_cases.ts's, which test/e2e/onnx_web.test.ts runs in onnxruntime-web.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareOutputs,
  type ExportedCase,
  exportCase,
  LAYER_CASES,
  loadRealData,
  RANDOM_CASES,
  REAL_CASES,
} from '../helpers/onnx_cases.js';

/** The largest difference per case and batch size, printed at the end (the issue asks for them). */
const report: string[] = [];

afterAll(() => {
  if (report.length)
    console.log(`onnxruntime-node ${ort.env.versions.node} (CPU EP) vs mlp.predict:\n${report.join('\n')}`);
});

async function runOnnx(c: ExportedCase, inputs: Float32Array, rows: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(c.onnx);
  try {
    expect(session.inputNames).toEqual(['inputs']);
    expect(session.outputNames).toEqual([c.output]);
    const result = await session.run({ inputs: new ort.Tensor('float32', inputs, [rows, c.D]) });
    const out = result[c.output];
    expect(out.dims).toEqual([rows, c.C]);
    return out.data as Float32Array;
  } finally {
    await session.release();
  }
}

async function check(c: ExportedCase): Promise<void> {
  for (const batch of c.batches) report.push(compareOutputs(c, batch, await runOnnx(c, batch.inputs, batch.rows)));
}

describe('onnxruntime-node runs the exported file as mlp.predict computes it', () => {
  for (const c of RANDOM_CASES) {
    it(`random inputs: ${c.name}`, async () => {
      await check(await exportCase(c));
    });
  }

  for (const c of LAYER_CASES) {
    it(`layer kinds, random inputs: ${c.name}`, async () => {
      await check(await exportCase(c));
    });
  }

  describe('real inputs', () => {
    beforeAll(loadRealData);
    for (const c of REAL_CASES) {
      it(`real inputs: ${c.name}`, async () => {
        await check(await exportCase(c));
      });
    }
  });
});
