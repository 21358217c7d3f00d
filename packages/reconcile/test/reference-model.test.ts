/** The reference model's live-deployment inputs: the erasure log, declared-late ids, a watermark floor. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceKey, referenceWindows, type ReferenceEvent } from '../src/reference-model.js';

const T = 1_800_000_000_000;
const event = (id: string, userId: string, eventTime: number, type = 'click'): ReferenceEvent => ({
  id, type, siteId: 'shop', userId, sessionId: `s-${userId}`, url: 'https://shop.example/p', eventTime,
});
const settings = { outOfOrdernessMs: 2000, allowedLatenessMs: 60_000, sessionGapMs: 20_000 };
const key = (userId: string, start: number) => referenceKey('shop', userId, new Date(start).toISOString());

test('without the new settings the replay is the log alone: a window the log never closed is not emitted', () => {
  const out = referenceWindows([[event('a-000001', 'a', T + 1000), event('b-000001', 'b', T + 100_000)]], settings);
  assert.equal(out.windows.get(key('a', T))?.events, 1);
  assert.equal(out.windows.has(key('b', T + 100_000)), false, 'its end is past the final watermark');
  assert.deepEqual(out.watermarks, [T + 98_000]);
  assert.deepEqual([...out.countedIds].sort(), ['a-000001', 'b-000001']);
  assert.equal(out.partitionOf.get('shop|a'), 0);
});

test('an id the processor declared late is late even where the log says it was in time', () => {
  const log = [event('a-000001', 'a', T + 1000), event('a-000002', 'a', T + 2000), event('z-000001', 'z', T + 30_000)];
  const plain = referenceWindows([log], settings);
  assert.equal(plain.windows.get(key('a', T))?.events, 2);
  const live = referenceWindows([log], { ...settings, declaredLate: new Set(['a-000002']) });
  assert.equal(live.windows.get(key('a', T))?.events, 1);
  assert.deepEqual(live.lateEventIds, ['a-000002']);
  assert.equal(live.countedIds.has('a-000002'), false);
});

test('the erasure log drops the user\'s events up to erasedAt, which still move the watermark', () => {
  const log = [event('a-000001', 'a', T + 1000), event('a-000002', 'a', T + 9000), event('b-000001', 'b', T + 1000), event('a-000003', 'a', T + 90_000)];
  const out = referenceWindows([log], { ...settings, erasures: [{ siteId: 'shop', userId: 'a', erasedAt: T + 1000 }] });
  assert.equal(out.windows.has(key('a', T)), false, 'the erased window is gone');
  assert.equal(out.windows.get(key('a', T + 5000))?.events, 1, 'a later event of the user counts again');
  assert.equal(out.windows.get(key('b', T))?.events, 1, 'other users are untouched');
  assert.equal(out.erasedEvents, 1);
  assert.equal([...out.siteStats.keys()].some((k) => k.includes('|shop|') && k.startsWith('site_stats_minute')), true);
  assert.deepEqual(out.watermarks, [T + 88_000]);
});

test('a watermark floor (the live processor\'s) emits windows and closes visits the log alone leaves open', () => {
  const log = [event('a-000001', 'a', T + 1000), event('a-000002', 'a', T + 3000)];
  const plain = referenceWindows([log], settings);
  assert.equal(plain.windows.size, 0);
  assert.equal([...plain.visits.values()][0]?.open, true);
  const live = referenceWindows([log], { ...settings, watermarkFloor: [T + 600_000] });
  assert.equal(live.windows.get(key('a', T))?.events, 2);
  assert.equal([...live.visits.values()][0]?.open, false);
  assert.deepEqual(live.watermarks, [T + 600_000]);
});
