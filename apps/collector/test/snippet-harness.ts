/**
 * What the snippet's browser tests share: a real collector on the test broker whose
 * website-clicks they read back, fixture pages served from a local HTTP server (another origin
 * than the collector, as on a real site), and Chromium. `useSnippetHarness()` registers the
 * node:test hooks that start and stop them; its fields are set once `before` has run.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page, type Request } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@clickstream/local-infra';
import { collectTopic, testScope, waitFor, type ReceivedMessage } from '@clickstream/local-infra/testing';
import type { EnrichedEvent } from '@clickstream/shared';
import { startTestCollector } from './helpers.js';

const fixtures = join(import.meta.dirname, 'fixtures');

/** A desktop Chrome on Linux: tests that play a person must not look like HeadlessChrome (a bot). */
export const DESKTOP_USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

// Callbacks for page.evaluate run in the page, where tsx's helpers do not exist: keep them
// free of named inner functions, and pass init scripts as strings.
export const snippetLoaded = () => typeof (globalThis as unknown as { cs?: { cs?: number } }).cs?.cs === 'number';
export const callCs = (args: unknown[]) => (globalThis as unknown as { cs: (...a: unknown[]) => void }).cs(...args);
/** Everything in the page's localStorage, as [key, value] pairs. */
export const storageOf = (page: Page): Promise<Array<[string, string]>> =>
  page.evaluate(() => {
    const storage = (globalThis as unknown as { localStorage: Storage }).localStorage;
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < storage.length; i++) pairs.push([storage.key(i)!, storage.getItem(storage.key(i)!)!]);
    return pairs;
  });
/** The snippet's persisted queues: key → [lease end, events]. */
export async function queuesOf(page: Page): Promise<Map<string, { until: number; events: Array<{ id: string; type: string; name?: string }> }>> {
  const queues = new Map<string, { until: number; events: Array<{ id: string; type: string; name?: string }> }>();
  for (const [key, value] of await storageOf(page)) {
    if (!key.startsWith('cs_q')) continue;
    const [until, events] = JSON.parse(value) as [number, Array<{ id: string; type: string; name?: string }>];
    queues.set(key, { until, events });
  }
  return queues;
}

/**
 * Follows the context's requests to the collector: `acked` holds the ids of every event a 202
 * answered, `pending` counts requests without an answer yet (sendBeacon's included), `failed`
 * those that never reached it, `bodies` what each request carried.
 */
export function trackSends(context: BrowserContext): {
  acked: Set<string>;
  pending: () => number;
  failed: () => number;
  bodies: Array<{ sentAt: number; ids: string[] }>;
} {
  const acked = new Set<string>();
  const bodies: Array<{ sentAt: number; ids: string[] }> = [];
  // Requests of a page that closed or crashed get no more events: they stop counting as pending.
  const pending = new Map<Request, Page | null>();
  let failed = 0;
  const isEvents = (url: string) => url.endsWith('/v1/events');
  const idsOf = (postData: string | null) => {
    const body = JSON.parse(postData ?? '{}') as { sentAt: number; events?: Array<{ id: string }> };
    return { sentAt: body.sentAt, ids: (body.events ?? []).map((e) => e.id) };
  };
  const forget = (page: Page) => {
    for (const [request, of] of pending) if (of === page) pending.delete(request);
  };
  context.on('page', (page) => {
    page.on('close', () => forget(page));
    page.on('crash', () => forget(page));
  });
  context.on('request', (request) => {
    if (!isEvents(request.url())) return;
    const frame = request.frame();
    pending.set(request, frame.page());
    bodies.push(idsOf(request.postData()));
  });
  context.on('requestfinished', async (request) => {
    if (!isEvents(request.url())) return;
    const response = await request.response();
    if (response?.status() === 202) for (const id of idsOf(request.postData()).ids) acked.add(id);
    pending.delete(request);
  });
  context.on('requestfailed', (request) => {
    if (!isEvents(request.url())) return;
    failed++;
    pending.delete(request);
  });
  return { acked, pending: () => pending.size, failed: () => failed, bodies };
}

export interface SnippetHarness {
  browser: Browser;
  collectorUrl: string;
  siteUrl: string;
  /** With `limited: true`: a second collector whose rate limit a test can use up, to see the snippet retry a 429. */
  limited: { url: string; messages: ReceivedMessage[]; exhaust: () => Promise<void> };
  eventsOf(site: string): EnrichedEvent[];
  waitForEvents(site: string, what: string, check: (events: EnrichedEvent[]) => boolean): Promise<EnrichedEvent[]>;
  /**
   * Waits for `check`, and then until every request of `sends` has its answer and each event
   * the collector acknowledged has been read back from website-clicks: what follows sees all.
   */
  settle(site: string, sends: ReturnType<typeof trackSends>, what: string, check: (events: EnrichedEvent[]) => boolean): Promise<EnrichedEvent[]>;
  /** A fresh browser profile, closed with the test. */
  newContext(t: { after: (fn: () => unknown) => void }, options?: BrowserContextOptions): Promise<BrowserContext>;
  /** Opens a fixture page and waits for the snippet; page errors are collected so a test can assert there were none. */
  open(context: BrowserContext, path: string): Promise<{ page: Page; errors: string[] }>;
}

/**
 * Serves fixtures/<page>.html with the snippet tag. Query: `site` (data-site), `collector`
 * (where the snippet comes from and sends to), `dnt=1` (data-respect-dnt), `attrs` (more
 * attributes, e.g. `data-ignore-gpc`).
 */
function fixtureServer(collectorUrl: string): Server {
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
    const attrs = [url.searchParams.get('dnt') ? 'data-respect-dnt' : '', (url.searchParams.get('attrs') ?? '').replace(/[^a-z -]/g, '')];
    const head = readFileSync(join(fixtures, 'head.html'), 'utf8')
      .replace('{{COLLECTOR}}', url.searchParams.get('collector') ?? collectorUrl)
      .replace('{{SITE}}', url.searchParams.get('site') ?? 'none')
      .replace('{{ATTRS}}', attrs.join(' ').trim());
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page.replace('{{HEAD}}', head).replace('{{QUERY}}', url.search));
  });
}

export function useSnippetHarness(options: { limited?: boolean } = {}): SnippetHarness {
  const hooks: Array<() => unknown> = [];
  const scope = testScope({ after: (fn: () => unknown) => hooks.push(fn) });
  let messages: ReceivedMessage[] = [];
  const harness = {
    eventsOf: (site: string): EnrichedEvent[] => messages.map((m) => JSON.parse(m.value!) as EnrichedEvent).filter((e) => e.siteId === site),
    waitForEvents: (site: string, what: string, check: (events: EnrichedEvent[]) => boolean) =>
      waitFor(what, async () => check(harness.eventsOf(site)) && harness.eventsOf(site), { timeoutMs: 20_000, intervalMs: 100 }),
    settle: (site: string, sends: ReturnType<typeof trackSends>, what: string, check: (events: EnrichedEvent[]) => boolean) =>
      harness.waitForEvents(site, `${what}, and every acknowledged event read back`, (events) => {
        const ids = new Set(events.map((e) => e.id));
        return check(events) && sends.pending() === 0 && [...sends.acked].every((id) => ids.has(id));
      }),
    newContext: async (t: { after: (fn: () => unknown) => void }, options: BrowserContextOptions = {}) => {
      const context = await harness.browser.newContext(options);
      t.after(() => context.close());
      return context;
    },
    open: async (context: BrowserContext, path: string) => {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${harness.siteUrl}${path}`);
      await page.waitForFunction(snippetLoaded);
      return { page, errors };
    },
  } as SnippetHarness;

  before(async () => {
    const { app, topics } = await startTestCollector(scope, { RATE_LIMIT_PER_MIN: '100000' });
    harness.collectorUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    messages = (await collectTopic(scope, topics.clicks)).messages;
    if (options.limited) {
      const slow = await startTestCollector(scope, { RATE_LIMIT_PER_MIN: '20' });
      const limitedUrl = await slow.app.listen({ port: 0, host: '127.0.0.1' });
      harness.limited = {
        url: limitedUrl,
        messages: (await collectTopic(scope, slow.topics.clicks)).messages,
        exhaust: async () => {
          while ((await fetch(`${limitedUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status !== 429);
        },
      };
    }
    const server = fixtureServer(harness.collectorUrl);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    scope.after(() => new Promise((resolve) => server.close(resolve)));
    harness.siteUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    harness.browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
    scope.after(() => harness.browser.close());
  });
  after(async () => {
    for (const hook of hooks) await hook();
  });
  return harness;
}
