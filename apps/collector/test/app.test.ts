/**
 * Every answer of POST /v1/events and the other routes, through app.inject() against a
 * collector producing to the real broker. Bad input gets its 4xx and leaves the service healthy.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { collectTopic, testScope, waitFor, type ReceivedMessage } from '@clickstream/local-infra/testing';
import { freePort } from '@clickstream/local-infra';
import { buildCollectorApp } from '../src/app.js';
import { parseCollectorConfig } from '../src/env.js';
import { EventProducer } from '../src/event-producer.js';
import { eventId, pageView, startTestCollector, type TestCollector } from './helpers.js';

const json = { 'content-type': 'application/json' };

describe('POST /v1/events', () => {
  let collector: TestCollector;
  let invalidTopic: ReceivedMessage[];
  let clicksTopic: ReceivedMessage[];
  const hooks: Array<() => unknown> = [];
  const scope = testScope({ after: (fn: () => unknown) => hooks.push(fn) });

  before(async () => {
    collector = await startTestCollector(scope);
    invalidTopic = (await collectTopic(scope, collector.topics.invalid)).messages;
    clicksTopic = (await collectTopic(scope, collector.topics.clicks)).messages;
  });
  after(async () => {
    for (const hook of hooks) await hook();
  });

  const post = (payload: unknown, headers: Record<string, string> = json) =>
    collector.app.inject({ method: 'POST', url: '/v1/events', headers, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

  test('202 for one valid event, enriched on website-clicks with the parsed user agent', async () => {
    const event = pageView({ title: 'Caf\u00e9 \u65e5\u672c \u{1F600}' });
    const response = await post(event, { ...json, 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36' });
    assert.equal(response.statusCode, 202, response.body);
    assert.deepEqual(response.json(), { accepted: 1, rejected: [] });
    assert.equal(response.headers['access-control-allow-origin'], '*');
    const message = await waitFor('the event on website-clicks', async () => clicksTopic.find((m) => m.value?.includes(event.id)), { timeoutMs: 10_000 });
    const stored = JSON.parse(message.value!);
    assert.equal(message.key, 'u1');
    assert.equal(stored.title, event.title, 'unicode kept as sent');
    assert.equal(stored.browser, 'Chrome');
    assert.equal(stored.os, 'Windows');
    assert.equal(stored.deviceType, 'desktop');
    assert.equal(stored.isBot, false);
    assert.ok(stored.receivedAt >= event.ts);
    assert.ok(!('ip' in stored));
  });

  test('202 for a text/plain batch (sendBeacon); invalid events are reported per index and written to website-clicks-invalid', async () => {
    const good = pageView();
    const badType = { ...pageView(), ts: 'yesterday' };
    const unknownField = { ...pageView(), password: 'x' };
    const response = await post({ sentAt: Date.now(), events: [badType, good, unknownField] }, { 'content-type': 'text/plain;charset=UTF-8' });
    assert.equal(response.statusCode, 202, response.body);
    const body = response.json();
    assert.equal(body.accepted, 1);
    assert.deepEqual(body.rejected.map((r: { index: number }) => r.index), [0, 2]);
    assert.match(body.rejected[0].errors.join(), /\/ts/);
    const records = await waitFor(
      'both rejections on website-clicks-invalid',
      async () => {
        const found = invalidTopic.map((m) => JSON.parse(m.value!)).filter((r) => r.raw?.id === badType.id || r.raw?.id === unknownField.id);
        return found.length === 2 && found;
      },
      { timeoutMs: 10_000 },
    );
    for (const record of records) {
      assert.equal(typeof record.receivedAt, 'number');
      assert.ok(record.reason.length > 0);
      assert.equal(invalidTopic.find((m) => m.value?.includes(record.raw.id))!.key, null);
    }
  });

  test('400 for a single event that breaks the schema, still recorded as invalid', async () => {
    const cases: Array<[string, unknown]> = [
      ['wrong type', { ...pageView(), ts: '1' }],
      ['unknown field', { ...pageView(), extra: 1 }],
      ['bad url', pageView({ url: 'javascript:alert(1)' })],
      ['short id', pageView({ id: 'x' })],
      ['NUL byte', pageView({ userId: 'a\u0000b' })],
      ['lone surrogate', pageView({ title: 'x\ud800y' })],
      ['too long title', pageView({ title: 'x'.repeat(513) })],
      ['engagement without engagedMs', pageView({ type: 'engagement' })],
      ['custom with a forbidden prop key', pageView({ type: 'custom', name: 'n', props: { constructor: 'x' } })],
      ['too many props', pageView({ type: 'custom', name: 'n', props: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) })],
      ['nested prop value', { ...pageView({ type: 'custom', name: 'n' }), props: { a: { b: 1 } } }],
      ['missing fields', { id: eventId() }],
    ];
    for (const [name, payload] of cases) {
      const response = await post(payload);
      assert.equal(response.statusCode, 400, `${name}: ${response.body}`);
      assert.equal(response.json().error, 'invalid_event', name);
      assert.equal(response.json().rejected[0].index, 0, name);
    }
  });

  test('400 for bodies that are not JSON or not an event or batch', async () => {
    const cases: Array<[string, string, string]> = [
      ['malformed JSON', '{"id": ', 'invalid_json'],
      ['empty body', '', 'invalid_json'],
      ['an array', '[1,2]', 'invalid_body'],
      ['a string', '"hello"', 'invalid_body'],
      ['null', 'null', 'invalid_body'],
      ['empty batch', '{"events": []}', 'invalid_body'],
      ['batch with unknown field', '{"events": [{}], "x": 1}', 'invalid_body'],
      ['events not an array', '{"events": {"0": {}}}', 'invalid_body'],
      ['NUL byte outside a string', '{"id"\u0000: 1}', 'invalid_json'],
    ];
    for (const [name, payload, error] of cases) {
      const response = await post(payload);
      assert.equal(response.statusCode, 400, `${name}: ${response.body}`);
      assert.equal(response.json().error, error, name);
    }
    const tooMany = await post({ events: Array.from({ length: 101 }, () => pageView()) });
    assert.equal(tooMany.statusCode, 400);
    assert.match(tooMany.json().message, /events/);
  });

  test('400 for prototype-pollution keys, and nothing is polluted', async () => {
    const proto = await post(`{"id":"${eventId()}","type":"page_view","__proto__":{"polluted":true}}`);
    assert.equal(proto.statusCode, 400, proto.body);
    assert.equal(proto.json().error, 'forbidden_key');
    const ctor = await post(`{"events":[{"constructor":{"prototype":{"polluted":true}}}]}`);
    assert.equal(ctor.statusCode, 400, ctor.body);
    const nested = await post(`{"events":[${JSON.stringify(pageView({ type: 'custom', name: 'n' })).slice(0, -1)},"props":{"__proto__":{"polluted":true}}}]}`);
    assert.equal(nested.statusCode, 400, nested.body);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });

  test('413 for a body over 64 KiB', async () => {
    const response = await post({ events: [pageView({ title: 'x'.repeat(70_000) })] });
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().error, 'body_too_large');
  });

  test('415 for other content types', async () => {
    for (const type of ['application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) {
      const response = await post(pageView(), { 'content-type': type });
      assert.equal(response.statusCode, 415, type);
      assert.equal(response.json().error, 'unsupported_media_type');
    }
  });

  test('404 for unknown routes', async () => {
    const response = await collector.app.inject({ method: 'GET', url: '/v1/nope' });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error, 'not_found');
  });

  test('after all that the service is healthy, still accepts events, and counts them in /metrics', async () => {
    assert.equal((await collector.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await post(pageView())).statusCode, 202);
    const metrics = await collector.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.headers['content-type'] as string, /text\/plain/);
    assert.match(metrics.body, /^clickstream_collector_events_accepted_total [1-9]/m);
    assert.match(metrics.body, /^clickstream_collector_events_rejected_total [1-9]/m);
    assert.match(metrics.body, /^clickstream_collector_http_requests_total\{route="\/v1\/events",status="413"\} 1/m);
    assert.match(metrics.body, /^clickstream_collector_produce_duration_seconds_count [1-9]/m);
    assert.match(metrics.body, /^clickstream_collector_produce_batch_messages_bucket/m);
    assert.match(metrics.body, /^clickstream_collector_kafka_up 1/m);
    // Every metric carries the service prefix (the old unprefixed names are gone).
    const names = metrics.body.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/, 1)[0]!);
    assert.ok(names.length > 0 && names.every((n) => n.startsWith('clickstream_collector_')), names.join(' '));
  });
});

describe('limits, CORS and unavailability', () => {
  test('429 with Retry-After past the per-address rate limit, per address', async (context) => {
    const t = testScope(context);
    const { app } = await startTestCollector(t, { RATE_LIMIT_PER_MIN: '2', TRUST_PROXY: 'true' });
    const from = (ip: string) => app.inject({ method: 'POST', url: '/v1/events', headers: { ...json, 'x-forwarded-for': ip }, payload: pageView() });
    assert.equal((await from('10.0.0.1')).statusCode, 202);
    assert.equal((await from('10.0.0.1')).statusCode, 202);
    const limited = await from('10.0.0.1');
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().error, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.equal((await from('10.0.0.2')).statusCode, 202);
  });

  test('ALLOWED_ORIGINS: listed origins get CORS headers, others 403; preflight answers 204', async (context) => {
    const t = testScope(context);
    const { app } = await startTestCollector(t, { ALLOWED_ORIGINS: 'https://shop.example' });
    const ok = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...json, origin: 'https://shop.example' }, payload: pageView() });
    assert.equal(ok.statusCode, 202);
    assert.equal(ok.headers['access-control-allow-origin'], 'https://shop.example');
    assert.equal(ok.headers.vary, 'Origin');
    const foreign = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...json, origin: 'https://evil.example' }, payload: pageView() });
    assert.equal(foreign.statusCode, 403);
    assert.equal(foreign.json().error, 'origin_not_allowed');
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    const preflight = await app.inject({ method: 'OPTIONS', url: '/v1/events', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-methods'], 'POST, OPTIONS');
    assert.equal(preflight.headers['access-control-allow-headers'], 'Content-Type');
  });

  test('503 with Retry-After at once when Kafka is unreachable; /healthz says so', async (context) => {
    const t = testScope(context);
    const config = parseCollectorConfig({ KAFKA_BROKERS: `127.0.0.1:${await freePort()}`, COLLECTOR_PORT: '0' });
    const producer = new EventProducer({ brokers: config.kafkaBrokers, topics: config.topics, produceTimeoutMs: 1000 });
    producer.connectInBackground();
    t.after(() => producer.disconnect());
    const app = buildCollectorApp({ config, producer });
    t.after(() => app.close());
    const started = Date.now();
    const response = await app.inject({ method: 'POST', url: '/v1/events', headers: json, payload: pageView() });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error, 'unavailable');
    assert.equal(response.headers['retry-after'], '2');
    assert.ok(Date.now() - started < 500, 'refused without waiting');
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 503);
    assert.deepEqual(health.json(), { status: 'unavailable', kafka: false });
  });
});

describe('GET /snippet.js', () => {
  test('served compressed with an ETag and a long cache; 304 when unchanged', async (context) => {
    const t = testScope(context);
    const config = parseCollectorConfig({ COLLECTOR_PORT: '0' });
    const producer = new EventProducer({ brokers: config.kafkaBrokers, topics: config.topics, produceTimeoutMs: 1000 });
    const app = buildCollectorApp({ config, producer });
    t.after(() => app.close());
    const plain = await app.inject({ method: 'GET', url: '/snippet.js' });
    assert.equal(plain.statusCode, 200);
    assert.match(plain.headers['content-type'] as string, /^application\/javascript/);
    assert.match(plain.headers['cache-control'] as string, /max-age=86400/);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.match(plain.body, /sendBeacon/);
    const etag = plain.headers.etag as string;
    assert.match(etag, /^".+"$/);
    const br = await app.inject({ method: 'GET', url: '/snippet.js', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(br.headers['content-encoding'], 'br');
    const { brotliDecompressSync, gunzipSync } = await import('node:zlib');
    assert.equal(brotliDecompressSync(br.rawPayload).toString(), plain.body);
    const gz = await app.inject({ method: 'GET', url: '/snippet.js', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.rawPayload).toString(), plain.body);
    assert.ok(gz.rawPayload.length < plain.rawPayload.length);
    const cached = await app.inject({ method: 'GET', url: '/snippet.js', headers: { 'if-none-match': etag } });
    assert.equal(cached.statusCode, 304);
    assert.equal(cached.body, '');
  });
});
