/**
 * The snippet in real Chromium against the real collector and broker: fixture pages are served
 * from a local HTTP server (another origin than the collector, as on a real site), and every
 * check is made on what reached website-clicks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { uniqueId, waitFor } from '@clickstream/local-infra/testing';
import type { EnrichedEvent } from '@clickstream/shared';
import { callCs, snippetLoaded, storageOf, useSnippetHarness } from './snippet-harness.js';

const harness = useSnippetHarness({ limited: true });
const { eventsOf, waitForEvents, open, newContext } = harness;

describe('snippet in Chromium', () => {
  test('multi-page visit: page views, a link click, engagement on leaving; one user and session; only `cs` added', async (t) => {
    const site = uniqueId('mp');
    const { page, errors } = await open(await newContext(t), `/index.html?site=${site}`);
    const added = await page.evaluate(() => {
      const w = globalThis as unknown as { __globalsBefore: string[] };
      return Object.keys(globalThis).filter((k) => !w.__globalsBefore.includes(k) && k !== '__globalsBefore');
    });
    assert.deepEqual(added.filter((k) => k !== '__errors'), ['cs']);
    await page.mouse.move(10, 10);
    await page.click('#plain');
    await page.click('#secret');
    await page.click('#promo span');
    await page.click('#to-page2');
    await page.waitForURL(`${harness.siteUrl}/page2.html?site=${site}`);
    await page.waitForFunction(snippetLoaded);
    await page.click('#buy');

    const events = await waitForEvents(site, 'page views, clicks and engagement', (es) =>
      es.filter((e) => e.type === 'page_view').length === 2 && es.filter((e) => e.type === 'click').length === 3 && es.some((e) => e.type === 'engagement'));
    const views = events.filter((e) => e.type === 'page_view');
    assert.deepEqual(views.map((e) => new URL(e.url).pathname).sort(), ['/index.html', '/page2.html']);
    assert.equal(views.find((e) => e.url.includes('page2'))!.title, 'Page two');
    assert.equal(new Set(events.map((e) => e.userId)).size, 1, 'one anonymous user across pages');
    assert.equal(new Set(events.map((e) => e.sessionId)).size, 1, 'one session across pages');
    const clicks = events.filter((e) => e.type === 'click').map((e) => e.target);
    assert.deepEqual(clicks.find((c) => c?.tag === 'div'), { tag: 'div', id: 'promo', text: 'Big promo' });
    const link = clicks.find((c) => c?.tag === 'a')!;
    assert.equal(link.text, 'Go to page two');
    assert.equal(link.href, `${harness.siteUrl}/page2.html?site=${site}`);
    assert.deepEqual(clicks.find((c) => c?.tag === 'button'), { tag: 'button', id: 'buy', text: 'Buy now' });
    const engagement = events.find((e) => e.type === 'engagement')!;
    assert.ok(engagement.url.includes('index.html'), 'engagement belongs to the page it was spent on');
    assert.ok(engagement.engagedMs! > 0 && engagement.engagedMs! < 60_000);
    assert.ok(!JSON.stringify(events).includes('secret'), 'input values are never sent');
    assert.equal(new Set(events.map((e) => e.id)).size, events.length);
    assert.ok(events.every((e) => e.eventTime <= e.receivedAt));
    assert.deepEqual(errors, []);
  });

  test('SPA: pushState, replaceState and back each count as a page view; same-URL replaceState does not', async (t) => {
    const site = uniqueId('spa');
    const { page, errors } = await open(await newContext(t), `/spa.html?site=${site}`);
    await page.click('#to-a');
    await page.click('#to-b');
    await page.click('#same');
    await page.goBack();
    await page.waitForURL(`${harness.siteUrl}/spa.html?site=${site}`);
    const expected = ['/spa.html', '/spa/a', '/spa/b', '/spa.html'];
    const events = await waitForEvents(site, 'four page views', (es) => es.filter((e) => e.type === 'page_view').length >= 4 && es.filter((e) => e.type === 'click').length === 3);
    const views = events.filter((e) => e.type === 'page_view').sort((a, b) => a.ts - b.ts || a.receivedAt - b.receivedAt);
    assert.deepEqual(views.map((e) => new URL(e.url).pathname), expected);
    assert.equal(new URL(views[2]!.url).search, '?tab=1');
    assert.deepEqual(errors, []);
  });

  test('identify and custom events, including commands queued before the snippet loaded; bad commands are ignored', async (t) => {
    const site = uniqueId('cmd');
    const { page, errors } = await open(await newContext(t), `/commands.html?site=${site}`);
    await page.evaluate(callCs, ['track', 'later', { n: 1 }]);
    const events = await waitForEvents(site, 'page view and custom events', (es) => es.some((e) => e.type === 'page_view') && es.filter((e) => e.type === 'custom').length === 2);
    assert.ok(events.every((e) => e.userId === 'alice'), 'identify applies to every event, the first page view included');
    const signup = events.find((e) => e.name === 'signup')!;
    assert.deepEqual(signup.props, { plan: 'pro', seats: 3, trial: true });
    assert.ok(events.some((e) => e.name === 'later'));
    assert.ok(!events.some((e) => e.name === 'cyclic'));
    assert.deepEqual(errors, []);
  });

  test('optOut stops events (also after a reload) until optIn', async (t) => {
    const site = uniqueId('opt');
    const context = await newContext(t);
    const { page } = await open(context, `/commands.html?site=${site}`);
    await waitForEvents(site, 'the first page view', (es) => es.some((e) => e.type === 'page_view'));
    assert.ok((await storageOf(page)).some(([key]) => key === 'cs_u'), 'a tracked visitor has a stored id');
    await page.click('#opt-out');
    await page.click('#after');
    assert.deepEqual(await storageOf(page), [['cs_o', '1']], 'opting out erases what the snippet stored and keeps only the choice');
    await page.reload();
    await page.waitForFunction(snippetLoaded);
    await page.click('#after');
    await page.evaluate(callCs, ['identify', 'someone']);
    assert.deepEqual(await storageOf(page), [['cs_o', '1']], 'an opted-out visitor makes the snippet write nothing');
    await page.click('#opt-in');
    await page.click('#after');
    await page.evaluate(callCs, ['track', 'back']);
    const events = await waitForEvents(site, 'the event after opting in', (es) => es.some((e) => e.name === 'back'));
    assert.equal(events.filter((e) => e.type === 'page_view').length, 1, 'the reloaded page was not counted');
    const clicks = events.filter((e) => e.type === 'click');
    assert.equal(clicks.length, 1, 'only the click after optIn was sent');
    assert.equal(events.filter((e) => e.name === 'signup').length, 1);
  });

  test('Do-Not-Track is respected only when data-respect-dnt is set', async (t) => {
    const context = await newContext(t);
    await context.addInitScript("Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })");
    const respectful = uniqueId('dnt');
    const ignoring = uniqueId('nodnt');
    const { page: quiet, errors } = await open(context, `/index.html?site=${respectful}&dnt=1`);
    let requests = 0;
    quiet.on('request', (request) => request.url().includes('/v1/events') && requests++);
    assert.equal(await quiet.evaluate(() => (globalThis as unknown as { navigator: { doNotTrack: string } }).navigator.doNotTrack), '1');
    const { page: other } = await open(context, `/index.html?site=${ignoring}`);
    await quiet.click('#to-page2');
    await quiet.waitForURL(`**/page2.html?**`);
    await other.close({ runBeforeUnload: true });
    await waitForEvents(ignoring, 'the page view without data-respect-dnt', (es) => es.length > 0);
    await quiet.close({ runBeforeUnload: true });
    assert.equal(requests, 0, 'the page with data-respect-dnt sent nothing, not even on leaving');
    assert.deepEqual(eventsOf(respectful), []);
    assert.deepEqual(errors, []);
  });

  test('Global Privacy Control: no request and nothing stored; data-ignore-gpc turns it off', async (t) => {
    const gpc = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })";
    const quietContext = await newContext(t);
    await quietContext.addInitScript(gpc);
    await quietContext.clock.install();
    let requests = 0;
    quietContext.on('request', (request) => request.url().includes('/v1/events') && requests++);
    const respectful = uniqueId('gpc');
    const { page: quiet, errors } = await open(quietContext, `/index.html?site=${respectful}`);
    assert.equal(await quiet.evaluate(() => (globalThis as unknown as { navigator: { globalPrivacyControl: boolean } }).navigator.globalPrivacyControl), true);
    await quiet.mouse.move(10, 10);
    await quiet.click('#promo span');
    await quiet.evaluate(callCs, ['identify', 'someone']);
    await quiet.evaluate(callCs, ['track', 'signup', { plan: 'pro' }]);
    await quietContext.clock.runFor(60_000);
    await quiet.click('#to-page2');
    await quiet.waitForURL('**/page2.html?**');
    await quiet.waitForFunction(snippetLoaded);
    await quiet.click('#buy');
    await quietContext.clock.runFor(60_000);
    const stored = await quiet.evaluate(() => {
      const g = globalThis as unknown as { localStorage: Storage; sessionStorage: Storage; document: { cookie: string } };
      return { local: g.localStorage.length, session: g.sessionStorage.length, cookie: g.document.cookie };
    });
    assert.deepEqual(stored, { local: 0, session: 0, cookie: '' }, 'nothing written: no localStorage, sessionStorage or cookie');
    await quiet.close({ runBeforeUnload: true });

    // The same browser signal on a site that handles consent itself.
    const ignoringContext = await newContext(t);
    await ignoringContext.addInitScript(gpc);
    const ignoring = uniqueId('nogpc');
    const { page: tracked } = await open(ignoringContext, `/index.html?site=${ignoring}&attrs=data-ignore-gpc`);
    await tracked.click('#promo span');
    await waitForEvents(ignoring, 'the page view and click with data-ignore-gpc', (es) => es.some((e) => e.type === 'click'));
    assert.ok((await storageOf(tracked)).some(([key]) => key === 'cs_u'));
    assert.equal(requests, 0, 'the page under Global Privacy Control sent nothing, not even on leaving');
    assert.deepEqual(eventsOf(respectful), []);
    assert.deepEqual(errors, []);
  });

  test('a page whose storage throws still gets tracked, without errors', async (t) => {
    const context = await newContext(t);
    await context.addInitScript("Object.defineProperty(window, 'localStorage', { get() { throw new DOMException('blocked', 'SecurityError'); } })");
    const site = uniqueId('nostore');
    const { page, errors } = await open(context, `/spa.html?site=${site}`);
    assert.equal(await page.evaluate(() => { try { return typeof (globalThis as unknown as { localStorage: unknown }).localStorage; } catch { return 'throws'; } }), 'throws');
    await page.click('#to-a');
    const events = await waitForEvents(site, 'two page views', (es) => es.filter((e) => e.type === 'page_view').length === 2);
    assert.equal(new Set(events.map((e) => e.userId)).size, 1, 'the id lives in memory for the page');
    assert.equal(new Set(events.map((e) => e.sessionId)).size, 1);
    assert.deepEqual(errors, []);
  });

  test('offline then online: queued events arrive once, with their ids kept', async (t) => {
    const context = await newContext(t);
    const site = uniqueId('off');
    const { page, errors } = await open(context, `/page2.html?site=${site}`);
    await waitForEvents(site, 'the page view', (es) => es.length === 1);
    let failed = 0;
    page.on('requestfailed', (request) => request.url().includes('/v1/events') && failed++);
    await context.setOffline(true);
    for (let i = 0; i < 3; i++) await page.click('#buy');
    await waitFor('a failed send while offline', async () => failed > 0, { timeoutMs: 10_000, intervalMs: 100 });
    assert.equal(eventsOf(site).length, 1);
    await context.setOffline(false);
    await waitForEvents(site, 'the three queued clicks', (es) => es.filter((e) => e.type === 'click').length >= 3);
    // The snippet sends in order, one request at a time: once a later marker is in, any
    // duplicate of the queued clicks would be in too.
    await page.evaluate(callCs, ['track', 'marker']);
    const all = await waitForEvents(site, 'the marker', (es) => es.some((e) => e.name === 'marker'));
    assert.equal(all.filter((e) => e.type === 'click').length, 3);
    assert.equal(new Set(all.map((e) => e.id)).size, all.length, 'no event arrived twice');
    assert.deepEqual(errors, []);
  });

  test('a 429 is retried later with the same event ids, and each event arrives once', async (t) => {
    const context = await newContext(t);
    const site = uniqueId('retry');
    await harness.limited.exhaust();
    const page = await context.newPage();
    const statuses: number[] = [];
    page.on('response', (response) => response.url().endsWith('/v1/events') && statuses.push(response.status()));
    await page.goto(`${harness.siteUrl}/page2.html?site=${site}&collector=${encodeURIComponent(harness.limited.url)}`);
    await page.click('#buy');
    const events = await waitFor(
      'the page view and the click after the retry',
      async () => {
        const found = harness.limited.messages.map((m) => JSON.parse(m.value!) as EnrichedEvent).filter((e) => e.siteId === site);
        return found.length >= 2 && found;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    await waitFor('the 202 in the page', async () => statuses.includes(202), { timeoutMs: 10_000, intervalMs: 50 });
    assert.ok(statuses.indexOf(429) >= 0 && statuses.indexOf(429) < statuses.indexOf(202), `statuses seen: ${statuses.join(',')}`);
    assert.deepEqual(events.map((e) => e.type).sort(), ['click', 'page_view']);
    assert.equal(new Set(events.map((e) => e.id)).size, 2);
  });
});
