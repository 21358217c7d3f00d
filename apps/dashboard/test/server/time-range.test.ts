import assert from 'node:assert/strict';
import { test } from 'node:test';
import { windowStartOf } from '@clickstream/shared';
import { DashboardError } from '../../src/server/errors.js';
import { DAY_MS, parseTime, resolveRange } from '../../src/server/time-range.js';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 3);

test('parseTime takes ISO-8601 and milliseconds since the epoch', () => {
  assert.equal(parseTime('from', '2024-06-01T12:00:00Z'), Date.UTC(2024, 5, 1, 12));
  assert.equal(parseTime('from', '2024-06-01T14:00:00.500+02:00'), Date.UTC(2024, 5, 1, 12, 0, 0, 500));
  assert.equal(parseTime('from', '2024-06-01'), Date.UTC(2024, 5, 1));
  assert.equal(parseTime('from', '1717243200000'), 1717243200000);
  assert.equal(parseTime('from', '0'), 0);
});

test('parseTime refuses anything else with a message naming the parameter', () => {
  for (const bad of ['', 'now', '-5', '1e12', '2024-02-30T00:00:00Z', '2024-06-01T25:00:00Z', "1' OR '1'='1", '99999999999999999', '0x10', 'Infinity']) {
    assert.throws(
      () => parseTime('since', bad),
      (e: unknown) => e instanceof DashboardError && e.error === 'invalid_time' && /since/.test(e.message),
      bad,
    );
  }
});

test('resolveRange: default is the last 15 minutes; from must precede to; the span is capped', () => {
  assert.deepEqual(resolveRange({}, NOW, DAY_MS), { from: NOW - 15 * 60_000, to: NOW });
  assert.deepEqual(resolveRange({ to: '1000000' }, NOW, DAY_MS), { from: 1_000_000 - 15 * 60_000, to: 1_000_000 });
  assert.deepEqual(resolveRange({ from: String(NOW - 60_000) }, NOW, DAY_MS), { from: NOW - 60_000, to: NOW });
  const invalidRange = (e: unknown) => e instanceof DashboardError && e.error === 'invalid_range';
  assert.throws(() => resolveRange({ from: String(NOW), to: String(NOW) }, NOW, DAY_MS), invalidRange);
  assert.throws(() => resolveRange({ from: String(NOW + 1) }, NOW, DAY_MS), invalidRange);
  assert.throws(() => resolveRange({ from: '0', to: String(DAY_MS + 1) }, NOW, DAY_MS), invalidRange);
  assert.deepEqual(resolveRange({ from: '0', to: String(DAY_MS) }, NOW, DAY_MS), { from: 0, to: DAY_MS });
});

test('windowStartOf (the shared one the timeline uses) aligns to the epoch in 5-second steps', () => {
  assert.equal(windowStartOf(NOW), NOW - 3000);
  assert.equal(windowStartOf(10_000), 10_000);
  assert.equal(windowStartOf(14_999), 10_000);
});
