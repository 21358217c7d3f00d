import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasActivity, latestWindow, toChartPoints, totalsOf, trimOpenBuckets, type TimelineWindow } from '../../web/src/timeline.js';
import { rangeBounds, RANGES } from '../../web/src/ranges.js';

const T0 = Date.parse('2026-01-01T12:00:00.000Z');
const w = (offsetMs: number, fields: Partial<TimelineWindow> = {}): TimelineWindow => ({
  windowStart: new Date(T0 + offsetMs).toISOString(),
  activeUsers: 1,
  events: 1,
  pageViews: 0,
  clicks: 0,
  engagedMs: 0,
  ...fields,
});

test('5-second buckets keep each window and fill quiet ones with zero', () => {
  const points = toChartPoints([w(0, { events: 10, clicks: 3 }), w(10_000, { events: 5, activeUsers: 2 })], T0, T0 + 20_000, 5000);
  assert.deepEqual(points.map((p) => p.t), [T0, T0 + 5000, T0 + 10_000, T0 + 15_000]);
  assert.deepEqual(points.map((p) => p.events), [10, 0, 5, 0]);
  assert.equal(points[0]!.eventsPerSecond, 2);
  assert.equal(points[0]!.clicks, 3);
  assert.equal(points[2]!.activeUsers, 2);
});

test('coarser buckets sum counts but take the peak of active users', () => {
  const windows = [w(0, { activeUsers: 3, events: 6, engagedMs: 4000 }), w(5000, { activeUsers: 5, events: 4, engagedMs: 2000 })];
  const [point] = toChartPoints(windows, T0, T0 + 30_000, 30_000);
  assert.equal(point!.activeUsers, 5);
  assert.equal(point!.events, 10);
  assert.equal(point!.engagedSeconds, 6);
  assert.ok(Math.abs(point!.eventsPerSecond - 10 / 30) < 1e-9);
});

test('windows outside the range or with a bad timestamp are ignored', () => {
  const points = toChartPoints([w(-5000), w(60_000), { ...w(0), windowStart: 'nonsense' }], T0, T0 + 10_000, 5000);
  assert.equal(points.reduce((s, p) => s + p.events, 0), 0);
});

test('totals and the latest window', () => {
  const windows = [w(5000, { activeUsers: 4, clicks: 2, engagedMs: 1000 }), w(0, { activeUsers: 7, clicks: 1 })];
  assert.deepEqual(totalsOf(windows), { events: 2, clicks: 3, pageViews: 0, engagedMs: 1000, peakActiveUsers: 7 });
  assert.equal(latestWindow(windows, T0 + 10_000)?.activeUsers, 4);
  assert.equal(latestWindow([], T0), undefined);
});

test('"active now" skips zero-filled windows and forgets stale ones', () => {
  const windows = [w(0, { activeUsers: 3 }), w(5000, { activeUsers: 0, events: 0 }), w(10_000, { activeUsers: 0, events: 0 })];
  assert.equal(latestWindow(windows, T0 + 15_000)?.activeUsers, 3);
  assert.equal(latestWindow(windows, T0 + 120_000), undefined);
  assert.equal(hasActivity(windows), true);
  assert.equal(hasActivity(windows.slice(1)), false);
});

test('range bounds are aligned to buckets and span the range', () => {
  for (const key of ['live', '15m', '1h', '24h'] as const) {
    const { from, to } = rangeBounds(key, T0 + 1234);
    assert.equal(to - from, RANGES[key].spanMs);
    assert.equal(to % RANGES[key].bucketMs, 0);
    assert.ok(to > T0 + 1234);
  }
});

test('buckets that may still be open are left off the chart instead of drawn as zero', () => {
  const points = toChartPoints([w(0, { events: 4 }), w(5000, { events: 2 })], T0, T0 + 40_000, 5000);
  // At T0+32s: buckets ending after now are cut, empty ones in the last 15 s too, older empty ones stay.
  const trimmed = trimOpenBuckets(points, 5000, T0 + 32_000);
  assert.deepEqual(trimmed.map((p) => p.t - T0), [0, 5000, 10_000]);
  assert.equal(trimOpenBuckets(points, 5000, T0 + 60_000).length, points.length);
  const busy = toChartPoints([w(25_000, { events: 1 })], T0, T0 + 30_000, 5000);
  assert.equal(trimOpenBuckets(busy, 5000, T0 + 31_000).at(-1)!.t, T0 + 25_000);
});
