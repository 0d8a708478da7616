import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chromium, launchChromium, openPage, servePages } from '../helpers/chromium.js';

let server: Awaited<ReturnType<typeof servePages>>;
let browser: Chromium;

beforeAll(async () => {
  server = await servePages('test/tune/page');
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type Session = { sources: string[]; picks: string[]; store: string };
const session = (tune: boolean | string) =>
  (globalThis as unknown as { tunePage: { session(t: boolean | string): Promise<Session> } }).tunePage.session(tune);

describe('tuning picks in IndexedDB', () => {
  it('are saved by a tuned plan, found after a reload without measuring, and forgotten when cleared', async () => {
    const { page, errors } = await openPage(browser.context, `${server.baseUrl}/index.html`);
    await page.waitForSelector('body[data-ready="yes"]');
    const first = await page.evaluate(session, true);
    expect(first.store).toBe('a store');
    // Five products; the last ones may find the plan's budget spent (compiling is slow on SwiftShader).
    expect(first.sources.filter((x) => x === 'measured').length).toBeGreaterThanOrEqual(3);
    expect(first.sources.every((x) => x === 'measured' || x === 'default')).toBe(true);

    await page.reload();
    await page.waitForSelector('body[data-ready="yes"]');
    const again = await page.evaluate(session, 'cached');
    expect(again.sources).toEqual(first.sources.map((x) => (x === 'measured' ? 'cache' : 'default')));
    expect(again.picks).toEqual(first.picks);

    await page.evaluate(() => (globalThis as unknown as { tunePage: { clear(): Promise<void> } }).tunePage.clear());
    await page.reload();
    await page.waitForSelector('body[data-ready="yes"]');
    const cleared = await page.evaluate(session, 'cached');
    expect(cleared.sources).toEqual(['default', 'default', 'default', 'default', 'default']);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
