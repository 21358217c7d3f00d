/**
 * The snippet in real Chromium against the real collector and broker: fixture pages are served
 * from a local HTTP server (another origin than the collector, as on a real site), and every
 * check is made on what reached website-clicks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@clickstream/local-infra';
import { collectTopic, testScope, uniqueId, waitFor, type ReceivedMessage } from '@clickstream/local-infra/testing';
import type { EnrichedEvent } from '@clickstream/shared';
import { startTestCollector } from './helpers.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const hooks: Array<() => unknown> = [];
const scope = testScope({ after: (fn: () => unknown) => hooks.push(fn) });
let browser: Browser;
let messages: ReceivedMessage[];
let limited: { url: string; messages: ReceivedMessage[]; exhaust: () => Promise<void> };
let collectorUrl: string;
let siteUrl: string;

/** Serves fixtures/<page>.html with the snippet tag for the site id and attributes in the query. */
function fixtureServer(): Server {
  return createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const name = url.pathname.startsWith('/spa') ? 'spa' : url.pathname.replace(/^\/|\.html$/g, '') || 'index';
    let page: string;
    try {
      page = readFileSync(join(fixtures, `${name.replace(/[^a-z0-9]/g, '')}.html`), 'utf8');
    } catch {
      response.writeHead(404).end();
      return;
    }
    const head = readFileSync(join(fixtures, 'head.html'), 'utf8')
      .replace('{{COLLECTOR}}', url.searchParams.get('collector') ?? collectorUrl)
      .replace('{{SITE}}', url.searchParams.get('site') ?? 'none')
      .replace('{{ATTRS}}', url.searchParams.get('dnt') ? 'data-respect-dnt' : '');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page.replace('{{HEAD}}', head).replace('{{QUERY}}', url.search));
  });
}

before(async () => {
  const { app, topics } = await startTestCollector(scope, { RATE_LIMIT_PER_MIN: '100000' });
  collectorUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  messages = (await collectTopic(scope, topics.clicks)).messages;
  // A second collector whose rate limit the test uses up, to see the snippet retry a 429.
  const slow = await startTestCollector(scope, { RATE_LIMIT_PER_MIN: '20' });
  limited = {
    url: await slow.app.listen({ port: 0, host: '127.0.0.1' }),
    messages: (await collectTopic(scope, slow.topics.clicks)).messages,
    exhaust: async () => {
      while ((await fetch(`${limited.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status !== 429);
    },
  };
  const server = fixtureServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.after(() => new Promise((resolve) => server.close(resolve)));
  siteUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
  scope.after(() => browser.close());
});
after(async () => {
  for (const hook of hooks) await hook();
});

const eventsOf = (site: string): EnrichedEvent[] =>
  messages.map((m) => JSON.parse(m.value!) as EnrichedEvent).filter((e) => e.siteId === site);

async function waitForEvents(site: string, what: string, check: (events: EnrichedEvent[]) => boolean): Promise<EnrichedEvent[]> {
  return waitFor(what, async () => check(eventsOf(site)) && eventsOf(site), { timeoutMs: 20_000, intervalMs: 100 });
}

// Callbacks for page.evaluate run in the page, where tsx's helpers do not exist: keep them
// free of named inner functions, and pass init scripts as strings.
const snippetLoaded = () => typeof (globalThis as unknown as { cs?: { cs?: number } }).cs?.cs === 'number';
const callCs = (args: unknown[]) => (globalThis as unknown as { cs: (...a: unknown[]) => void }).cs(...args);

/** A fresh browser profile per test; page errors are collected so a test can assert there were none. */
async function open(context: BrowserContext, path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${siteUrl}${path}`);
  await page.waitForFunction(snippetLoaded);
  return { page, errors };
}

async function newContext(t: { after: (fn: () => unknown) => void }): Promise<BrowserContext> {
  const context = await browser.newContext();
  t.after(() => context.close());
  return context;
}

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
    await page.waitForURL(`${siteUrl}/page2.html?site=${site}`);
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
    assert.equal(link.href, `${siteUrl}/page2.html?site=${site}`);
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
    await page.waitForURL(`${siteUrl}/spa.html?site=${site}`);
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
    await page.click('#opt-out');
    await page.click('#after');
    await page.reload();
    await page.waitForFunction(snippetLoaded);
    await page.click('#after');
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
    await limited.exhaust();
    const page = await context.newPage();
    const statuses: number[] = [];
    page.on('response', (response) => response.url().endsWith('/v1/events') && statuses.push(response.status()));
    await page.goto(`${siteUrl}/page2.html?site=${site}&collector=${encodeURIComponent(limited.url)}`);
    await page.click('#buy');
    const events = await waitFor(
      'the page view and the click after the retry',
      async () => {
        const found = limited.messages.map((m) => JSON.parse(m.value!) as EnrichedEvent).filter((e) => e.siteId === site);
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
