/** GpuContext.behind: work queued behind the first steps, in order; `later` items after the others. */
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import { useGpuContext } from '../helpers/gpu.js';

const gpu = useGpuContext();

describe('behind', () => {
  it('runs later items after the others, and compiled({ later: false }) waits only for the others', async () => {
    const ctx = await GpuContext.create({ device: gpu().device });
    const order: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    ctx.behind(async () => {
      order.push('later');
      await gate;
    }, true);
    ctx.behind(async () => {
      order.push('first');
    });
    ctx.behind(async () => {
      order.push('second');
    });
    expect(ctx.queuedBehind).toBe(2);
    await ctx.compiled({ later: false });
    expect(ctx.queuedBehind).toBe(0);
    expect(order.slice(0, 2)).toEqual(['first', 'second']); // queued before them, the later item ran after
    let all = false;
    const waiting = ctx.compiled().then(() => {
      all = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(all).toBe(false); // compiled() waits for the later item too
    release();
    await waiting;
    expect(order).toEqual(['first', 'second', 'later']);
    ctx.destroy();
  });
});
