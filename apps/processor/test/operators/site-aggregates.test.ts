import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EnrichedEvent } from '@clickstream/shared';
import { SiteAggregates } from '../../src/operators/site-aggregates.js';

const T0 = Date.UTC(2026, 10, 29, 10, 14, 59, 500);
const base: EnrichedEvent = {
  id: 'evt-00000001', type: 'page_view', siteId: 'shop', userId: 'u1', sessionId: 's', ts: T0, url: 'https://shop.example/docs/../pricing?x=1',
  receivedAt: T0, eventTime: T0, browser: 'Firefox', os: 'Linux', deviceType: 'desktop', isBot: false,
};

test('one delta row per (minute, dimension, value) and one presence row per (quarter, value, user), whatever the event count', () => {
  const site = new SiteAggregates(60_000);
  site.add(base);
  site.add({ ...base, id: 'evt-00000002', userId: 'u2' });
  site.add({ ...base, id: 'evt-00000003', type: 'click', url: 'https://shop.example/pricing' });
  site.add({ ...base, id: 'evt-00000004', type: 'custom', name: 'signup', props: { plan: 'pro', seats: 3 } });
  site.add({ ...base, id: 'evt-00000005', type: 'engagement', engagedMs: 1000 });
  site.add({ ...base, id: 'evt-00000006', eventTime: T0 + 1000 }); // the next minute and quarter
  const { stats, presence } = site.take(T0);
  const row = (dimension: string, value: string, minute = Date.UTC(2026, 10, 29, 10, 14)) =>
    stats.find((s) => s.dimension === dimension && s.value === value && s.minute === minute);
  assert.deepEqual([row('', '')?.pageviews, row('', '')?.events], [2, 4], 'engagement heartbeats are no events of the site');
  assert.deepEqual([row('event:page', '/pricing')?.pageviews, row('event:page', '/pricing')?.events], [2, 4]);
  assert.deepEqual(row('event:name', 'signup')?.events, 1);
  assert.deepEqual(row('event:name', 'click')?.events, 1);
  assert.deepEqual(row('event:props:seats', '3')?.events, 1);
  assert.equal(row('', '', Date.UTC(2026, 10, 29, 10, 15))?.pageviews, 1);
  const users = presence.filter((p) => p.dimension === 'event:page' && p.quarter === Date.UTC(2026, 10, 29, 10, 0)).map((p) => p.userId);
  assert.deepEqual(users.sort(), ['u1', 'u2']);
  assert.equal(presence.filter((p) => p.dimension === '' && p.quarter === Date.UTC(2026, 10, 29, 10, 15)).length, 1);
  assert.deepEqual(site.take(T0), { stats: [], presence: [] }, 'taken once');
  site.add({ ...base, id: 'evt-00000007' });
  const again = site.take(T0);
  assert.equal(again.stats.find((s) => s.dimension === '')?.events, 1, 'counts are deltas per checkpoint');
  assert.deepEqual(again.presence, [], 'a user already present in that quarter is not written again');
  site.take(Date.UTC(2026, 10, 29, 10, 31)); // the 10:00 quarter is past lateness: forgotten
  site.add({ ...base, id: 'evt-00000008' });
  assert.equal(site.take(T0).presence.length, 3, 'after forgetting, written again (harmless: ON CONFLICT DO NOTHING)');
});
