import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FreshnessTracker, quantile } from '../../src/runtime/freshness.js';

test('freshness: rolling minute of rates, latency quantiles, watermark lag and checkpoint age', () => {
  const f = new FreshnessTracker();
  const now = 1_700_000_000_000;
  assert.deepEqual(f.snapshot(now, [], 0).eventToVisibleMs, { p50: null, p99: null, samples: 0 });
  assert.equal(f.snapshot(now, [], 0).checkpointAgeMs, null, 'no checkpoint yet');
  f.recordEvents(600, now - 30_000);
  f.recordEvents(600, now - 90_000); // older than a minute: not counted
  const receivedAt = Array.from({ length: 100 }, (_, i) => now - 2000 - (i + 1) * 10); // 2010 .. 3000 ms
  f.recordCheckpoint(now - 1000, receivedAt);
  const s = f.snapshot(now, [now - 4000, now - 2500, Number.NEGATIVE_INFINITY], 42);
  assert.equal(s.eventsInPerSec, 10);
  assert.equal(s.resultsOutPerSec, 100 / 60);
  assert.deepEqual(s.eventToVisibleMs, { p50: 1500, p99: 1990, samples: 100 });
  assert.equal(s.watermarkLagMs, 4000, 'the slowest partition');
  assert.equal(s.checkpointAgeMs, 1000);
  assert.equal(s.consumerLag, 42);
  assert.equal(f.snapshot(now + 61_000, [], 0).eventToVisibleMs.samples, 0, 'samples age out');
  assert.equal(quantile([5], 0.99), 5);
});
