/**
 * The page of test/tune/browser.test.ts: a "session" is a new context (as a new page load would make)
 * and a model whose plan is tuned (`tune: true`) or takes cached picks only (`'cached'`); the picks
 * persist in IndexedDB between sessions unless cleared.
 */
import { GpuContext } from '../../../src/gpu/context.js';
import { Model } from '../../../src/train/model.js';
import { tuneCacheOf } from '../../../src/tune/cache.js';
import { clearSavedTuning } from '../../../src/tune/persist.js';

async function session(tune: true | 'cached'): Promise<{ sources: string[]; picks: string[]; store: string }> {
  const ctx = await GpuContext.create({ label: 'tune.page' });
  try {
    const model = await Model.create({ layers: [16, 8, 4], seed: 1, context: ctx, tune });
    const plan = await model.plan(8, 'labels');
    const shapes = plan.tuning?.shapes ?? [];
    await model.destroy();
    return {
      sources: shapes.map((s) => s.source),
      picks: shapes.map((s) => `${s.pick.variant}${s.pick.fuseBiasGrad ? '+db' : ''}`),
      store: tuneCacheOf(ctx).store ? 'a store' : String(tuneCacheOf(ctx).store),
    };
  } finally {
    ctx.destroy();
  }
}

(globalThis as unknown as { tunePage: object }).tunePage = { session, clear: clearSavedTuning };
document.body.dataset.ready = 'yes';
