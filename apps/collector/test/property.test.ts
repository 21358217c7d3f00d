/**
 * Random bodies, from garbage to almost-valid events: the collector never answers 5xx on bad
 * input, accounts for every event of a batch, and nothing that breaks the schema reaches
 * website-clicks (checked on the real topic).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Value } from '@sinclair/typebox/value';
import { collectTopic, testScope, waitFor } from '@clickstream/local-infra/testing';
import { EVENT_TYPES, EnrichedEventSchema, eventTypeErrors, type ClientEvent } from '@clickstream/shared';
import { textErrors } from '../src/validate.js';
import { startTestCollector } from './helpers.js';

const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\u0000', 'a\ud800', '__proto__', 'constructor', 'javascript:1', 'https://', 'x'.repeat(3000)),
);
const anyValue = fc.oneof(fc.jsonValue(), nastyString, fc.constant(undefined));

const validEvent: fc.Arbitrary<ClientEvent> = fc.record({
  id: fc.stringMatching(/^[a-z0-9]{8,20}$/),
  type: fc.constantFrom(...EVENT_TYPES),
  userId: fc.string({ minLength: 1, maxLength: 20 }),
  sessionId: fc.string({ minLength: 1, maxLength: 20 }),
  ts: fc.integer({ min: 0, max: 2_000_000_000_000 }),
  url: fc.webUrl({ validSchemes: ['https', 'http'] }),
}).map((e) => {
  const event = { ...e } as ClientEvent;
  if (event.type === 'engagement') event.engagedMs = 1000;
  if (event.type === 'custom') event.name = 'n';
  if (event.type === 'click') event.target = { tag: 'a' };
  return event;
});

/** A valid event with a few fields replaced, removed or added. */
const mutatedEvent = fc
  .tuple(validEvent, fc.array(fc.tuple(fc.oneof(fc.constantFrom('id', 'type', 'userId', 'url', 'ts', 'props', 'target', 'engagedMs', 'siteId', 'title', '__proto__', 'constructor'), fc.string()), anyValue), { maxLength: 3 }))
  .map(([event, changes]) => {
    const copy: Record<string, unknown> = { ...event };
    for (const [key, value] of changes) Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
    return copy;
  });

type Body = { raw: string; count?: number };
const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 1, arbitrary: fc.string().map((s): Body => ({ raw: s })) },
  { weight: 1, arbitrary: fc.jsonValue().map((v): Body => ({ raw: JSON.stringify(v) ?? 'null' })) },
  { weight: 3, arbitrary: mutatedEvent.map((e): Body => ({ raw: JSON.stringify(e) })) },
  {
    weight: 4,
    arbitrary: fc
      .record({ sentAt: fc.option(fc.oneof(fc.integer({ min: 0 }), anyValue), { nil: undefined }), events: fc.array(fc.oneof(validEvent, mutatedEvent, anyValue), { minLength: 0, maxLength: 30 }) })
      .map((b): Body => ({ raw: JSON.stringify(b), count: b.events.length })),
  },
);

test('random bodies: never 5xx, every event accounted for, nothing invalid on website-clicks', async (context) => {
  const t = testScope(context);
  const { app, topics } = await startTestCollector(t, { RATE_LIMIT_PER_MIN: '1000000' });
  const { messages } = await collectTopic(t, topics.clicks);
  let acknowledged = 0;
  await fc.assert(
    fc.asyncProperty(body, fc.constantFrom('application/json', 'text/plain'), async ({ raw, count }, type) => {
      const response = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': type }, payload: raw });
      assert.ok(response.statusCode < 500, `${response.statusCode} ${response.body} for ${raw.slice(0, 200)}`);
      assert.ok([202, 400, 413].includes(response.statusCode), `${response.statusCode}`);
      const answer = response.json();
      if (response.statusCode === 202) {
        acknowledged += answer.accepted;
        if (count !== undefined) assert.equal(answer.accepted + answer.rejected.length, count, 'every event of the batch accounted for');
      } else {
        assert.equal(typeof answer.error, 'string');
        assert.equal(typeof answer.message, 'string');
      }
    }),
    { numRuns: 300 },
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  await waitFor('every acknowledged event on website-clicks', async () => messages.length >= acknowledged, { timeoutMs: 20_000 });
  assert.equal(messages.length, acknowledged);
  for (const message of messages) {
    const event = JSON.parse(message.value!);
    assert.ok(Value.Check(EnrichedEventSchema, event), message.value!);
    assert.deepEqual(eventTypeErrors(event), []);
    assert.deepEqual(textErrors(event), []);
  }
  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});
