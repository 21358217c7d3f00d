/**
 * Hostile input against the real collector and dashboard processes: thousands of fuzzed bodies
 * and query strings, raw-socket header abuse and slow bodies. Each must get a 4xx (or, for a body
 * that happens to be a valid event, a 202) within a bound, never a 5xx; both services stay
 * healthy; every record that reached website-clicks follows the shared schema. Then the security
 * promises: the token on every /api/v1 route and the live feed, the feed's Origin check, the
 * collector's rate limit, and no API_TOKEN in any log.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { Value } from '@sinclair/typebox/value';
import { freePort } from '@clickstream/local-infra';
import { collectTopic, createTestDatabase, createTestTopics, testBrokers, testScope, waitFor } from '@clickstream/local-infra/testing';
import { EnrichedEventSchema } from '@clickstream/shared';
import { liveSocketSurvives, rawRequest, upgradeRequest } from './chaos/raw-http.js';
import { Service } from './chaos/services.js';

const BOUND_MS = 5000;
const RUNS = Number(process.env.HOSTILE_RUNS ?? 600);
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hasBadText(value: unknown): boolean {
  if (typeof value === 'string') return BAD_TEXT.test(value);
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => BAD_TEXT.test(k) || hasBadText(v));
  return false;
}

function validEvent(): Record<string, unknown> {
  return { id: `h${randomBytes(8).toString('hex')}`, type: 'page_view', userId: 'fuzz-user', sessionId: 'fuzz-session', ts: Date.now() - 1000, url: 'https://shop.example/' };
}

async function timed(url: string, init: RequestInit): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(BOUND_MS) });
  return { status: response.status, body: await response.text() };
}

test('hostile input gets 4xx, never 5xx, and nothing invalid reaches website-clicks', async (context) => {
  const t = testScope(context);
  const { prefix, topics } = await createTestTopics(t, 2);
  const databaseUrl = await createTestDatabase(t);
  const token = randomBytes(24).toString('base64url');
  const [collectorPort, limitedPort, dashboardPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    KAFKA_BROKERS: testBrokers().join(','),
    DATABASE_URL: databaseUrl,
    TOPIC_PREFIX: prefix,
    API_TOKEN: token,
    COLLECTOR_HOST: '127.0.0.1',
    DASHBOARD_PORT: String(dashboardPort),
    COLLECTOR_PUBLIC_URL: `http://127.0.0.1:${collectorPort}`,
  };
  const collector = new Service('collector', `http://127.0.0.1:${collectorPort}/healthz`, { ...env, COLLECTOR_PORT: String(collectorPort), RATE_LIMIT_PER_MIN: '1000000' });
  const limited = new Service('collector', `http://127.0.0.1:${limitedPort}/healthz`, { ...env, COLLECTOR_PORT: String(limitedPort), RATE_LIMIT_PER_MIN: '20' });
  const dashboard = new Service('dashboard', `http://127.0.0.1:${dashboardPort}/healthz`, env);
  const services = [collector, limited, dashboard];
  for (const service of services) service.start();
  t.after(() => Promise.all(services.map((s) => s.stop())));
  await Promise.all(services.map((s) => s.waitHealthy()));
  const { messages } = await collectTopic(t, topics.clicks, { readUncommitted: true });
  const events = `http://127.0.0.1:${collectorPort}/v1/events`;
  const api = `http://127.0.0.1:${dashboardPort}/api/v1`;
  const auth = { authorization: `Bearer ${token}` };
  let accepted = 0;
  const statuses = new Map<number, number>();

  const post = async (body: string | Uint8Array, contentType = 'application/json', allowAccept = false) => {
    const { status, body: text } = await timed(events, { method: 'POST', headers: { 'content-type': contentType }, body });
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status === 202 && allowAccept) accepted += (JSON.parse(text) as { accepted: number }).accepted;
    else assert.ok(status >= 400 && status < 500, `${status} for ${String(body).slice(0, 200)}: ${text.slice(0, 200)}`);
    return status;
  };

  await context.test('collector: malformed JSON, raw bytes and invalid UTF-8', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))), async (body) => {
        await post(body, 'application/json', true);
      }),
      { numRuns: RUNS },
    );
    // Invalid UTF-8 inside a string of an otherwise valid event: replaced or refused, never a crash.
    const event = JSON.stringify(validEvent()).replace('"fuzz-user"', '"fuzz-\xff\xfe-user"');
    await post(Buffer.from(event, 'latin1'), 'text/plain', true);
  });

  await context.test('collector: JSON of any shape, wrong types, NUL bytes and lone surrogates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        await post(JSON.stringify(value), 'application/json', false);
      }),
      { numRuns: RUNS },
    );
    const fields = ['id', 'type', 'siteId', 'userId', 'sessionId', 'ts', 'url', 'referrer', 'title', 'target', 'engagedMs', 'name', 'props'];
    const weird = fc.oneof(fc.anything({ maxDepth: 2 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('\u0000', 'a\u0000b', '\uD800', 'x\uDFFFy', 'https://x/\u0000'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), weird, fc.boolean(), async (field, value, batch) => {
        const event = { ...validEvent(), [field]: value };
        const text = JSON.stringify(batch ? { events: [event, validEvent()] } : event);
        if (text === undefined) return;
        await post(text, 'application/json', true);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  await context.test('collector: deep nesting, huge strings, prototype-pollution keys', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 100, max: 30_000 }), fc.constantFrom('[', '{"a":'), async (depth, open) => {
        const close = open === '[' ? ']' : '}';
        await post(`${open.repeat(depth)}1${close.repeat(depth)}`);
      }),
      { numRuns: 50 },
    );
    for (const size of [3000, 70_000, 1_000_000]) {
      const status = await post(JSON.stringify({ ...validEvent(), url: `https://x.example/${'a'.repeat(size)}` }));
      assert.equal(status, size > 64 * 1024 ? 413 : 400);
    }
    const pollution = [
      '{"__proto__":{"polluted":true},"id":"pp-000001","type":"page_view","userId":"u","sessionId":"s","ts":1,"url":"https://x/"}',
      '{"constructor":{"prototype":{"polluted":true}},"id":"pp-000002","type":"page_view","userId":"u","sessionId":"s","ts":1,"url":"https://x/"}',
      '{"events":[{"id":"pp-000003","type":"custom","name":"n","props":{"__proto__":{"polluted":true}},"userId":"u","sessionId":"s","ts":1,"url":"https://x/"}]}',
      '{"events":[{"id":"pp-000004","type":"click","target":{"tag":"a","__proto__":{"x":1}},"userId":"u","sessionId":"s","ts":1,"url":"https://x/"}]}',
    ];
    for (const body of pollution) assert.equal(await post(body), 400, body);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  await context.test('collector: header abuse and slow bodies over raw sockets', async () => {
    const body = JSON.stringify(validEvent());
    const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
    const cases: Array<{ name: string; chunks: string[]; expect: (s: number) => boolean }> = [
      { name: 'no content type', chunks: [head(['POST /v1/events HTTP/1.1', 'Host: x', `Content-Length: ${body.length}`]) + body], expect: (s) => s === 415 },
      { name: 'xml', chunks: [head(['POST /v1/events HTTP/1.1', 'Host: x', 'Content-Type: application/xml', `Content-Length: ${body.length}`]) + body], expect: (s) => s === 415 },
      { name: 'huge header', chunks: [head(['POST /v1/events HTTP/1.1', 'Host: x', `X-Big: ${'a'.repeat(100_000)}`, 'Content-Length: 0'])], expect: (s) => s === 431 || s === 400 || s === 0 },
      { name: 'bad header name', chunks: [head(['POST /v1/events HTTP/1.1', 'Host: x', 'Bad Header\u0001: 1', 'Content-Length: 0'])], expect: (s) => s === 400 || s === 0 },
      { name: 'NUL in a header', chunks: [head(['POST /v1/events HTTP/1.1', 'Host: x', 'Content-Type: application/json\u0000', `Content-Length: ${body.length}`]) + body], expect: (s) => s === 400 || s === 415 || s === 0 },
      { name: 'smuggling', chunks: [head(['POST /v1/events HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 4', 'Transfer-Encoding: chunked']) + '0\r\n\r\n'], expect: (s) => s === 400 || s === 0 },
      { name: 'declared too large', chunks: [head(['POST /v1/events HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 99999999'])], expect: (s) => s === 413 },
      { name: 'bad chunk', chunks: [head(['POST /v1/events HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked']) + 'zz\r\nabc\r\n0\r\n\r\n'], expect: (s) => s === 400 || s === 0 },
      { name: 'not HTTP', chunks: ['\u0016\u0003\u0001garbage\r\n\r\n'], expect: (s) => s === 400 || s === 0 },
    ];
    for (const c of cases) {
      const answer = await rawRequest(collectorPort, c.chunks);
      assert.ok(c.expect(answer.status), `${c.name}: ${answer.status} ${answer.head.slice(0, 200)}`);
    }
    // A body that stalls, and one that trickles a byte every 100 ms: both are cut off by the
    // request timeout (10 s) with a 408 instead of holding a connection forever.
    const slowHead = head(['POST /v1/events HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 500']);
    const dashboardHead = head(['DELETE /api/v1/users/u1?siteId=shop HTTP/1.1', 'Host: x', `Authorization: Bearer ${token}`, 'Content-Type: application/json', 'Content-Length: 500']);
    const [stalled, trickled, dashboardStalled, liveHeld] = await Promise.all([
      rawRequest(collectorPort, [slowHead, '{"id":'], { boundMs: 20_000 }),
      rawRequest(collectorPort, [slowHead, ...Array.from({ length: 400 }, () => ' ')], { boundMs: 20_000, gapMs: 100 }),
      rawRequest(dashboardPort, [dashboardHead, '{'], { boundMs: 20_000 }),
      liveSocketSurvives(dashboardPort, `/api/v1/live?token=${token}`, `http://127.0.0.1:${dashboardPort}`, 14_000),
    ]);
    assert.ok(liveHeld, 'a live-feed socket outlives the request timeout');
    assert.equal(dashboardStalled.status, 408, `stalled body to the dashboard: ${dashboardStalled.head}`);
    assert.equal(stalled.status, 408, `stalled body: ${stalled.head}`);
    assert.equal(trickled.status, 408, `trickled body: ${trickled.head}`);
    assert.ok(await collector.healthy(), 'collector healthy after the raw-socket abuse');
  });

  await context.test('dashboard: fuzzed query parameters get 200 or 400, never 5xx', async () => {
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.integer().map(String), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constant('x'.repeat(5000)), fc.constantFrom("' OR 1=1 --", '1e309', '-1', 'NaN', '\u0000', '%00'));
    const params = fc.dictionary(fc.constantFrom('siteId', 'from', 'to', 'limit', 'by', 'since', 'extra'), text, { maxKeys: 5 });
    const route = fc.constantFrom('users/ID/metrics', 'metrics/timeline', 'metrics/top-users');
    await fc.assert(
      fc.asyncProperty(route, params, fc.string({ unit: 'binary', minLength: 1, maxLength: 150 }), async (path, query, userId) => {
        const url = `${api}/${path.replace('ID', encodeURIComponent(userId))}?${new URLSearchParams(query)}`;
        const { status, body } = await timed(url, { headers: auth });
        assert.ok([200, 400, 404, 414, 431].includes(status), `${status} for ${url.slice(0, 300)}: ${body.slice(0, 200)}`);
      }),
      { numRuns: RUNS * 2 },
    );
    const raw = await rawRequest(dashboardPort, [`GET /api/v1/metrics/timeline?from=%ZZ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`]);
    assert.ok(raw.status === 400, `bad percent-encoding: ${raw.status}`);
  });

  await context.test('every /api/v1 route and the live feed refuse a missing or wrong token', async () => {
    const routes: Array<[string, string]> = [
      ['GET', '/users/u1/metrics'],
      ['GET', '/metrics/timeline'],
      ['GET', '/metrics/top-users'],
      ['DELETE', '/users/u1?siteId=shop'],
      ['GET', '/live'],
    ];
    const wrong: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${token}x` }, { authorization: `Basic ${token}` }, { authorization: token }, { authorization: 'Bearer ' }];
    for (const [method, path] of routes) {
      for (const headers of wrong) {
        const { status } = await timed(`${api}${path}`, { method, headers });
        assert.equal(status, 401, `${method} ${path} with ${JSON.stringify(headers)}`);
      }
      assert.equal((await timed(`${api}${path}${path.includes('?') ? '&' : '?'}token=${token}`, { method })).status === 401, path !== '/live', `${path}: a query token is for the live feed only`);
    }
    const own = `http://127.0.0.1:${dashboardPort}`;
    assert.equal((await upgradeRequest(dashboardPort, '/api/v1/live', { Origin: own })).status, 401, 'feed without token');
    assert.equal((await upgradeRequest(dashboardPort, '/api/v1/live?token=nope', { Origin: own })).status, 401, 'feed with a wrong token');
    assert.equal((await upgradeRequest(dashboardPort, `/api/v1/live?token=${token}`, { Origin: 'https://evil.example' })).status, 403, 'foreign origin');
    assert.equal((await upgradeRequest(dashboardPort, '/api/v1/live', { Origin: 'null', Authorization: `Bearer ${token}` })).status, 403, 'opaque origin');
    assert.equal((await upgradeRequest(dashboardPort, `/api/v1/live?token=${token}`, { Origin: own })).status, 101, 'own origin with the token');
  });

  await context.test('the collector rate limit holds', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 30; i++) {
      const response = await fetch(`http://127.0.0.1:${limitedPort}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(validEvent()) });
      answers.push(response.status);
      if (response.status === 202) accepted += 1;
      if (response.status === 429) assert.ok(Number(response.headers.get('retry-after')) >= 1, 'Retry-After');
      await response.arrayBuffer();
    }
    assert.equal(answers.filter((s) => s === 202).length, 20, `answers: ${answers}`);
    assert.equal(answers.filter((s) => s === 429).length, 10, `answers: ${answers}`);
  });

  await context.test('afterwards: services healthy, only valid records on website-clicks, no secret in any log', async () => {
    for (const service of services) assert.ok(await service.healthy(), `${service.name} healthy`);
    assert.ok(accepted > 0, 'some fuzzed bodies were valid events and were accepted');
    await waitFor('every accepted event on website-clicks', async () => messages.length >= accepted, { timeoutMs: 30_000 });
    assert.equal(messages.length, accepted, 'exactly the accepted events reached website-clicks');
    for (const m of messages) {
      const record = JSON.parse(m.value ?? '') as unknown;
      assert.ok(Value.Check(EnrichedEventSchema, record), `schema: ${m.value?.slice(0, 300)}`);
      assert.ok(!hasBadText(record), `NUL or lone surrogate: ${m.value?.slice(0, 300)}`);
    }
    for (const service of services) assert.ok(!service.output().includes(token), `${service.name} logged the API token`);
    process.stderr.write(`hostile input: answers by status ${JSON.stringify(Object.fromEntries(statuses))}, ${accepted} valid events accepted\n`);
  });
});
