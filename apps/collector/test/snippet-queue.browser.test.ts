/**
 * The snippet's persisted queue, in real Chromium against the real collector: events wait in
 * localStorage until the collector acknowledged them, survive reloads and closed tabs, and are
 * sent by exactly one tab. The collector is made unreachable by aborting the page's requests to
 * it; the page clock is paused (Playwright's clock), so retries happen when the test advances
 * time, not when the machine gets to them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { uniqueId, waitFor } from '@clickstream/local-infra/testing';
import type { EnrichedEvent } from '@clickstream/shared';
import { callCs, DESKTOP_USER_AGENT, queuesOf, snippetLoaded, storageOf, trackSends, useSnippetHarness } from './snippet-harness.js';

const { eventsOf, settle, open, newContext } = useSnippetHarness();
const EVENTS = '**/v1/events';
type Sends = ReturnType<typeof trackSends>;

/** A fresh profile whose clock is paused once its first page has loaded. */
async function browse(t: { after: (fn: () => unknown) => void }, path: string) {
  const context = await newContext(t, { userAgent: DESKTOP_USER_AGENT });
  const sends = trackSends(context);
  await context.clock.install();
  const { page, errors } = await open(context, path);
  await context.clock.pauseAt((await page.evaluate(() => Date.now())) + 1_000);
  return { context, sends, page, errors };
}

/** Lets the pages' one-second timer run, and waits until the requests it made are answered or failed. */
async function tick(context: BrowserContext, sends: Sends, ms = 1_500): Promise<void> {
  const before = sends.bodies.length;
  await context.clock.runFor(ms);
  await waitFor('the requests to finish', async () => sends.pending() === 0 && sends.bodies.length >= before, { timeoutMs: 10_000, intervalMs: 20 });
}

/** Makes the collector unreachable for the context and waits until a send has failed. */
async function cutOff(context: BrowserContext, sends: Sends): Promise<void> {
  await context.route(EVENTS, (route) => route.abort('internetdisconnected'));
  const failed = sends.failed();
  await waitFor('a send to fail', async () => (await context.clock.runFor(1_000), sends.failed() > failed && sends.pending() === 0), { timeoutMs: 10_000, intervalMs: 50 });
}

/** Makes the collector reachable again, and runs the clock past the longest back-off. */
async function reconnect(context: BrowserContext, sends: Sends): Promise<void> {
  await context.unroute(EVENTS);
  await tick(context, sends, 33_000);
}

const queued = async (page: Page) => [...(await queuesOf(page)).values()].flatMap((q) => q.events);
/** Whatever the collector acknowledged has left storage (heartbeats queued since may still be there). */
async function noAckedStored(page: Page, sends: Sends): Promise<void> {
  const stored = (await queued(page)).filter((e) => sends.acked.has(e.id));
  assert.deepEqual(stored, [], 'acknowledged events are no longer stored');
}
const named = (events: EnrichedEvent[], name: string) => events.filter((e) => e.name === name);
const onceEach = (events: EnrichedEvent[]) => assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'no event arrived twice');

describe('snippet queue', () => {
  test('events queued while the collector is unreachable survive a reload and arrive once, with their ids; each attempt has its own sentAt', async (t) => {
    const site = uniqueId('reload');
    const { context, sends, page, errors } = await browse(t, `/page2.html?site=${site}`);
    await tick(context, sends);
    await settle(site, sends, 'the page view', (es) => es.length === 1);
    await noAckedStored(page, sends);

    await cutOff(context, sends);
    for (let i = 0; i < 3; i++) await page.click('#buy');
    await tick(context, sends);
    const stored = (await queued(page)).filter((e) => e.type === 'click').map((e) => e.id).sort();
    assert.equal(stored.length, 3, 'the three clicks wait in localStorage');

    await page.reload();
    await page.waitForFunction(snippetLoaded);
    await tick(context, sends);
    const afterReload = await queuesOf(page);
    assert.equal(afterReload.size, 1, 'the reloaded page took the queue over under its own key');
    const held = [...afterReload.values()][0]!.events;
    assert.deepEqual(held.filter((e) => e.type === 'click').map((e) => e.id).sort(), stored);
    assert.equal(eventsOf(site).length, 1, 'nothing got through while unreachable');

    await reconnect(context, sends);
    const events = await settle(site, sends, 'the three clicks and the second page view', (es) => es.filter((e) => e.type === 'click').length >= 3 && es.filter((e) => e.type === 'page_view').length >= 2);
    onceEach(events);
    assert.deepEqual(events.filter((e) => e.type === 'click').map((e) => e.id).sort(), stored, 'the clicks kept their ids');
    for (const id of stored) {
      const attempts = sends.bodies.filter((b) => b.ids.includes(id));
      assert.ok(attempts.length >= 3, `${id} was tried before and after the reload, then sent`);
      assert.equal(new Set(attempts.map((b) => b.sentAt)).size, attempts.length, 'each request carries its own sentAt');
    }
    await noAckedStored(page, sends);
    assert.deepEqual(errors, []);
  });

  test('a tab closed while the collector is unreachable: the next page sends its events, once', async (t) => {
    const site = uniqueId('closed');
    const { context, sends, page: first } = await browse(t, `/page2.html?site=${site}`);
    await cutOff(context, sends);
    await first.evaluate(callCs, ['track', 'left-behind']);
    await tick(context, sends);
    await first.close({ runBeforeUnload: true });

    const { page: next, errors } = await open(context, `/index.html?site=${site}`);
    const held = [...(await queuesOf(next)).values()].flatMap((q) => q.events);
    assert.ok(held.some((e) => e.name === 'left-behind') && held.some((e) => e.type === 'page_view'), 'the next page holds the closed tab\'s events');
    await reconnect(context, sends);
    const events = await settle(site, sends, 'the closed tab\'s events', (es) => named(es, 'left-behind').length > 0 && es.filter((e) => e.type === 'page_view').length >= 2);
    onceEach(events);
    assert.equal(named(events, 'left-behind').length, 1);
    await noAckedStored(next, sends);
    assert.deepEqual(errors, []);
  });

  test('two tabs: each sends its own queue; a reload in one does not take the other\'s; nothing arrives twice', async (t) => {
    const site = uniqueId('tabs');
    const { context, sends, page: a } = await browse(t, `/page2.html?site=${site}`);
    const { page: b } = await open(context, `/page2.html?site=${site}`);
    await cutOff(context, sends);
    for (let i = 0; i < 2; i++) await a.evaluate(callCs, ['track', 'from-a']);
    for (let i = 0; i < 3; i++) await b.evaluate(callCs, ['track', 'from-b']);
    await tick(context, sends);
    const before = await queuesOf(a);
    assert.equal(before.size, 2, 'one queue per tab');
    const [keyOfA] = [...before].find(([, q]) => q.events.some((e) => e.name === 'from-a'))!;

    await b.reload();
    await b.waitForFunction(snippetLoaded);
    const after = await queuesOf(b);
    // (Its lease end may have moved on: a failed send renews it.)
    assert.deepEqual(after.get(keyOfA)?.events, before.get(keyOfA)!.events, 'the living tab\'s queue was left alone');
    assert.equal(after.size, 2);
    const ofB = [...after].find(([key]) => key !== keyOfA)![1].events;
    assert.equal(ofB.filter((e) => e.name === 'from-b').length, 3, 'the reloaded tab took back its own');

    await reconnect(context, sends);
    const events = await settle(site, sends, 'the events of both tabs', (es) => named(es, 'from-a').length >= 2 && named(es, 'from-b').length >= 3 && es.filter((e) => e.type === 'page_view').length >= 3);
    onceEach(events);
    assert.equal(named(events, 'from-a').length, 2);
    assert.equal(named(events, 'from-b').length, 3);
    await noAckedStored(a, sends);
  });

  test('a tab that died without leaving: its queue is taken over once its lease ran out, not before', async (t) => {
    const site = uniqueId('died');
    const { context, sends, page: dying } = await browse(t, `/page2.html?site=${site}`);
    await cutOff(context, sends);
    await dying.evaluate(callCs, ['track', 'orphan']);
    await tick(context, sends);
    const [keyOfDying] = [...(await queuesOf(dying)).keys()];
    // A crash: no pagehide, no chance to release anything.
    const session = await context.newCDPSession(dying);
    const crashed = dying.waitForEvent('crash', { timeout: 10_000 });
    void session.send('Page.crash').catch(() => undefined);
    await crashed;
    await dying.close();

    const { page: other } = await open(context, `/index.html?site=${site}`);
    const queues = await queuesOf(other);
    assert.ok(queues.get(keyOfDying!)?.events.some((e) => e.name === 'orphan'), 'the dead tab\'s queue is left alone while its lease runs');
    await context.clock.runFor(125_000);
    await other.reload();
    await other.waitForFunction(snippetLoaded);
    const taken = await queuesOf(other);
    assert.ok(!taken.has(keyOfDying!), 'the expired lease was taken over');
    assert.ok([...taken.values()].some((q) => q.events.some((e) => e.name === 'orphan')));

    await reconnect(context, sends);
    const events = await settle(site, sends, 'the orphaned event', (es) => named(es, 'orphan').length > 0);
    onceEach(events);
    assert.equal(named(events, 'orphan').length, 1);
  });

  test('while the collector is unreachable, retries back off from 1 s to 32 s', async (t) => {
    const site = uniqueId('backoff');
    const { context, sends, errors } = await browse(t, `/page2.html?site=${site}`);
    await cutOff(context, sends);
    const before = sends.bodies.length;
    for (let second = 0; second < 120; second++) await tick(context, sends, 1_000);
    const attempts = sends.bodies.length - before;
    // Waits of 1, 2, 4, 8, 16, 32, 32 … s: 6 or 7 attempts in two minutes, not one a second.
    assert.ok(attempts >= 5 && attempts <= 8, `${attempts} attempts in 120 s`);
    await reconnect(context, sends);
    const events = await settle(site, sends, 'the page view', (es) => es.some((e) => e.type === 'page_view'));
    onceEach(events);
    assert.deepEqual(errors, []);
  });

  test('the stored queue is bounded (100 events, 32 KB): the oldest are dropped, the newest sent', async (t) => {
    const site = uniqueId('bound');
    const { context, sends, page } = await browse(t, `/page2.html?site=${site}`);
    await tick(context, sends);
    await settle(site, sends, 'the page view', (es) => es.length === 1);
    await cutOff(context, sends);
    for (let i = 0; i < 150; i++) await page.evaluate(callCs, ['track', 'n', { i }]);
    const stored = await storageOf(page);
    const queue = stored.filter(([key]) => key.startsWith('cs_q'));
    assert.equal(queue.length, 1);
    assert.ok(queue[0]![1].length <= 32_000, `${queue[0]![1].length} characters stored`);
    const held = (await queuesOf(page)).get(queue[0]![0])!.events;
    assert.ok(held.length <= 100 && held.length >= 90, `${held.length} events held`);

    await reconnect(context, sends);
    const events = await settle(site, sends, 'the newest event', (es) => es.some((e) => e.props?.i === 149));
    const numbers = named(events, 'n').map((e) => e.props!.i as number).sort((x, y) => x - y);
    assert.equal(numbers.length, held.length);
    assert.deepEqual(numbers, Array.from({ length: numbers.length }, (_, k) => 150 - numbers.length + k), 'the newest, without gaps');
  });
});
