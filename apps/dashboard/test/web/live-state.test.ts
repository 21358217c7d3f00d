import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WindowResult } from '@clickstream/shared';
import { applyLiveDeletion, applyLiveResult, EMPTY_LIVE_STATE, LIVE_ROWS_KEPT, parseLiveDeletion, parseLiveMessage } from '../../web/src/live-state.js';
import { reconnectDelay, BACKOFF } from '../../web/src/backoff.js';

const result = (fields: Partial<WindowResult> = {}): WindowResult => ({
  siteId: 'shop',
  userId: 'u1',
  windowStart: '2026-01-01T12:00:00.000Z',
  windowEnd: '2026-01-01T12:00:05.000Z',
  events: 3,
  pageViews: 1,
  clicks: 2,
  customEvents: 0,
  uniquePages: 1,
  engagedMs: 0,
  sessions: 1,
  revision: 0,
  ...fields,
});

test('a later revision replaces the row and is marked as a correction', () => {
  let state = applyLiveResult(EMPTY_LIVE_STATE, result(), 1000);
  assert.equal(state.rows.length, 1);
  assert.equal(state.rows[0]!.corrected, false);
  state = applyLiveResult(state, result({ revision: 1, clicks: 5 }), 2000);
  assert.equal(state.rows.length, 1);
  assert.equal(state.rows[0]!.result.clicks, 5);
  assert.equal(state.rows[0]!.corrected, true);
  assert.equal(state.lastReceivedAt, 2000);
});

test('a replayed or older revision changes nothing', () => {
  const state = applyLiveResult(applyLiveResult(EMPTY_LIVE_STATE, result(), 1000), result({ revision: 1 }), 1100);
  assert.equal(applyLiveResult(state, result({ revision: 1 }), 1200), state);
  assert.equal(applyLiveResult(state, result({ revision: 0 }), 1300), state);
});

test('rows are newest window first, per site and user, and bounded', () => {
  let state = EMPTY_LIVE_STATE;
  for (let i = 0; i < LIVE_ROWS_KEPT + 20; i += 1) {
    state = applyLiveResult(state, result({ userId: `u${i % 7}`, siteId: i % 2 ? 'a' : 'b', windowStart: new Date(Date.UTC(2026, 0, 1, 12, 0, i * 5)).toISOString() }), i);
  }
  assert.equal(state.rows.length, LIVE_ROWS_KEPT);
  assert.deepEqual(state.sites, ['a', 'b']);
  const starts = state.rows.map((r) => Date.parse(r.result.windowStart));
  assert.deepEqual(starts, [...starts].sort((x, y) => y - x));
});

test('live messages are checked before they are rendered', () => {
  assert.deepEqual(parseLiveMessage(JSON.stringify({ type: 'window', data: result() })), result());
  assert.equal(parseLiveMessage('not json'), undefined);
  assert.equal(parseLiveMessage(JSON.stringify({ type: 'hello' })), undefined);
  assert.equal(parseLiveMessage(JSON.stringify({ type: 'window', data: { ...result(), clicks: '2' } })), undefined);
  assert.equal(parseLiveMessage(JSON.stringify({ type: 'window', data: { ...result(), windowStart: 'yesterday' } })), undefined);
  assert.equal(parseLiveMessage('null'), undefined);
});

test('a deleted message removes the row of that window and nothing else', () => {
  const other = result({ windowStart: '2026-01-01T12:00:05.000Z', windowEnd: '2026-01-01T12:00:10.000Z' });
  const state = applyLiveResult(applyLiveResult(EMPTY_LIVE_STATE, result(), 1000), other, 1100);
  const text = JSON.stringify({ type: 'deleted', data: { siteId: 'shop', userId: 'u1', windowStart: '2026-01-01T12:00:00.000Z' } });
  const deleted = parseLiveDeletion(text);
  assert.deepEqual(deleted, { siteId: 'shop', userId: 'u1', windowStart: '2026-01-01T12:00:00.000Z' });
  assert.equal(parseLiveMessage(text), undefined, 'a deletion is not a window');
  const after = applyLiveDeletion(state, deleted!);
  assert.deepEqual(after.rows.map((r) => r.result.windowStart), [other.windowStart]);
  assert.equal(applyLiveDeletion(after, deleted!), after, 'deleting a row not shown changes nothing');
  assert.equal(applyLiveDeletion(after, { ...deleted!, siteId: 'other', windowStart: other.windowStart }), after, 'another site keeps its rows');
  assert.equal(parseLiveDeletion(JSON.stringify({ type: 'deleted', data: { siteId: 'shop', userId: 7, windowStart: 'x' } })), undefined);
  assert.equal(parseLiveDeletion(JSON.stringify({ type: 'window', data: result() })), undefined);
});

test('reconnect delays grow, are jittered and capped', () => {
  assert.equal(reconnectDelay(1, () => 0), BACKOFF.baseMs);
  assert.equal(reconnectDelay(1, () => 1), BACKOFF.baseMs * 2);
  assert.ok(reconnectDelay(3, () => 0.5) > reconnectDelay(2, () => 0.5));
  assert.equal(reconnectDelay(50, () => 1), BACKOFF.maxMs);
  assert.ok(reconnectDelay(50, () => 0) >= BACKOFF.maxMs / 2);
});
