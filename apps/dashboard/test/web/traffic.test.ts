import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { ClientEventSchema, eventTypeErrors, type ClientEvent } from '@clickstream/shared';
import { visitAttributionOf } from '@clickstream/shared';
import { createDemoUsers, DEMO_DEVICES } from '../../demo/traffic.js';
import { snippetFor } from '../../web/src/snippet.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('simulated shoppers send only events the collector accepts, of every kind, from varied sources and devices', () => {
  const random = seeded(42);
  const users = createDemoUsers(6, 'demo-shop', 'http://localhost:3000');
  const events: ClientEvent[] = [];
  const agentOf = new Map<string, string>();
  const t0 = Date.parse('2026-01-01T12:00:00Z');
  for (let tick = 0; tick < 600; tick += 1) {
    for (const u of users) {
      const produced = u.step(t0 + tick * 1000, 1000, random);
      // One user agent per visitor: a request groups events by it.
      for (const e of produced) assert.equal(agentOf.get(e.userId) ?? u.userAgent, u.userAgent, `${e.userId} changed device mid-visit`);
      for (const e of produced) agentOf.set(e.userId, u.userAgent);
      events.push(...produced);
    }
  }
  for (const event of events) {
    assert.ok(Value.Check(ClientEventSchema, event), JSON.stringify([...Value.Errors(ClientEventSchema, event)][0]));
    assert.deepEqual(eventTypeErrors(event), [], JSON.stringify(event));
  }
  const types = new Set(events.map((e) => e.type));
  assert.deepEqual([...types].sort(), ['click', 'custom', 'engagement', 'page_view']);
  assert.equal(new Set(events.map((e) => e.id)).size, events.length, 'event ids are unique');
  // Each visit is a new visitor of one of the six slots, so visits and sources vary.
  const visitors = new Set(events.map((e) => e.userId));
  assert.ok(visitors.size > 20, `${visitors.size} visitors`);
  assert.ok([...visitors].every((v) => /^(ada|grace|linus|margaret|alan|barbara)-\d+$/.test(v)), [...visitors].join());
  assert.ok(new Set(events.map((e) => e.sessionId)).size >= visitors.size);
  // Engagement never claims more time than passed.
  const engaged = events.filter((e) => e.type === 'engagement').reduce((s, e) => s + (e.engagedMs ?? 0), 0);
  assert.ok(engaged <= 600 * 1000 * 6);

  // Sources as the processor attributes them: search, social, UTM campaigns, direct (self-referrals included).
  const firsts = [...visitors].map((v) => events.find((e) => e.userId === v)!);
  const attribution = firsts.map((e) => visitAttributionOf(e.url, e.referrer));
  const sources = new Set(attribution.map((a) => a.source));
  for (const expected of ['google.com', 'Direct / None']) assert.ok(sources.has(expected), [...sources].join());
  assert.ok(attribution.some((a) => a.utmCampaign !== null), 'a UTM campaign');
  assert.ok(
    firsts.some((e) => e.referrer?.startsWith('http://localhost:3000/')),
    'a self-referral',
  );
  assert.ok(sources.size >= 5, [...sources].join());
  // Devices: desktops, phones and tablets.
  const devices = new Set([...agentOf.values()].map((ua) => DEMO_DEVICES.find((d) => d.userAgent === ua)!.device));
  assert.deepEqual([...devices].sort(), ['desktop', 'mobile', 'tablet']);
  // Bounces: visits with one page view and neither click nor custom event.
  const bounced = [...visitors].filter((v) => {
    const own = events.filter((e) => e.userId === v);
    return own.filter((e) => e.type === 'page_view').length === 1 && !own.some((e) => e.type === 'click' || e.type === 'custom');
  });
  assert.ok(bounced.length > 0 && bounced.length < visitors.size, `${bounced.length} of ${visitors.size} bounced`);
  // Custom events carry properties.
  const custom = events.filter((e) => e.type === 'custom');
  assert.ok(custom.some((e) => e.name === 'add_to_cart' && typeof e.props?.product === 'string'));
  assert.ok(custom.some((e) => e.name === 'signup' && typeof e.props?.plan === 'string'));
});

test('the empty state shows the contract snippet for the collector and site', () => {
  assert.equal(
    snippetFor('https://collector.example.com/', 'shop'),
    '<script defer src="https://collector.example.com/snippet.js" data-site="shop"></script>\n' +
      '<script>window.cs=window.cs||function(){(cs.q=cs.q||[]).push(arguments)}</script>',
  );
});
