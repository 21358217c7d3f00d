import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { ClientEventSchema, eventTypeErrors, type ClientEvent } from '@clickstream/shared';
import { createDemoUsers } from '../../demo/traffic.js';
import { snippetFor } from '../../web/src/snippet.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('simulated shoppers send only events the collector accepts, of every kind', () => {
  const random = seeded(42);
  const users = createDemoUsers(6, 'demo-shop', 'http://localhost:3000');
  const events: ClientEvent[] = [];
  const t0 = Date.parse('2026-01-01T12:00:00Z');
  for (let tick = 0; tick < 600; tick += 1) for (const u of users) events.push(...u.step(t0 + tick * 1000, 1000, random));
  for (const event of events) {
    assert.ok(Value.Check(ClientEventSchema, event), JSON.stringify([...Value.Errors(ClientEventSchema, event)][0]));
    assert.deepEqual(eventTypeErrors(event), [], JSON.stringify(event));
  }
  const types = new Set(events.map((e) => e.type));
  assert.deepEqual([...types].sort(), ['click', 'custom', 'engagement', 'page_view']);
  assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'event ids are unique');
  assert.equal(new Set(events.map((e) => e.userId)).size, 6);
  // Sessions end and new ones start, so the dashboard shows people coming and going.
  assert.ok(new Set(events.map((e) => e.sessionId)).size > 6);
  // Engagement never claims more time than passed.
  const engaged = events.filter((e) => e.type === 'engagement').reduce((s, e) => s + (e.engagedMs ?? 0), 0);
  assert.ok(engaged <= 600 * 1000 * 6);
});

test('the empty state shows the contract snippet for the collector and site', () => {
  assert.equal(
    snippetFor('https://collector.example.com/', 'shop'),
    '<script defer src="https://collector.example.com/snippet.js" data-site="shop"></script>\n' +
      '<script>window.cs=window.cs||function(){(cs.q=cs.q||[]).push(arguments)}</script>',
  );
});
