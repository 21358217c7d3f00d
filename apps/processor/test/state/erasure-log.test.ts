import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { VisitResult, WindowResult } from '@clickstream/shared';
import { withoutErased } from '../../src/state/erasure-log.js';
import type { Checkpoint } from '../../src/state/checkpoint-store.js';
import { PartitionOperator } from '../../src/operators/partition-operator.js';

const T = Date.UTC(2026, 10, 29, 10, 0);
const window = (userId: string, start: number) => ({ siteId: 's', userId, windowStart: new Date(start).toISOString(), revision: 0 }) as WindowResult;
const visit = (userId: string, start: number) => ({ siteId: 's', userId, sessionStart: new Date(start).toISOString(), revision: 0 }) as VisitResult;

test('a checkpoint cut before an erasure was known loses the erased user up to the erasure time, rows and records alike', () => {
  const results = [window('gone', T), window('gone', T + 10_000), window('keep', T)];
  const visits = [visit('gone', T), visit('keep', T)];
  const cut = {
    results,
    visits,
    visitDeletions: [],
    site: { stats: [{ siteId: 's', minute: T, dimension: '', value: '', pageviews: 1, events: 1 }], presence: [{ siteId: 's', quarter: T, dimension: '', value: '', userId: 'gone' }] },
    outbox: [
      {
        seq: 4,
        records: [
          ...results.map((r) => ({ t: 'metrics' as const, k: r.userId, v: JSON.stringify(r) })),
          ...visits.map((v) => ({ t: 'sessions' as const, k: v.userId, v: JSON.stringify(v) })),
          { t: 'late' as const, k: 'gone', v: JSON.stringify({ siteId: 's', userId: 'gone', eventTime: T - 100_000 }) },
        ],
      },
    ],
  } as unknown as Checkpoint;
  const kept = withoutErased(cut, [{ seq: 1, siteId: 's', userId: 'gone', erasedAt: T + 5000 }]);
  assert.deepEqual(kept.results.map((r) => [r.userId, r.windowStart]), [['gone', new Date(T + 10_000).toISOString()], ['keep', new Date(T).toISOString()]], 'a window after the erasure stays');
  assert.deepEqual(kept.visits.map((v) => v.userId), ['keep']);
  assert.deepEqual(kept.site.presence, [], 'presence is personal');
  assert.equal(kept.site.stats.length, 1, 'site counts stay');
  assert.deepEqual(kept.outbox.map((e) => [e.seq, e.records.map((r) => `${r.t}:${r.k}`)]), [[4, ['metrics:gone', 'metrics:keep', 'sessions:keep']]]);
});

test('an erased user leaves the operator state, and their events up to the erasure time are dropped', () => {
  const config = { windowSizeMs: 5000, outOfOrdernessMs: 2000, allowedLatenessMs: 60_000, idleTimeoutMs: 1000, retryHorizonMs: 30_000, countBots: false, sessionGapMs: 1_800_000 };
  const op = new PartitionOperator(config, T);
  const e = (id: string, userId: string, eventTime: number) =>
    ({ id, type: 'click', siteId: 's', userId, sessionId: 'x', ts: eventTime, url: 'https://s.example/', receivedAt: eventTime, eventTime, browser: 'b', os: 'o', deviceType: 'desktop', isBot: false }) as const;
  op.process(e('gone-1', 'gone', T + 100), T);
  op.process(e('keep-1', 'keep', T + 100), T);
  op.onTimer(T);
  op.takeDelta();
  op.erase('s', 'gone', T + 4000);
  assert.equal(op.windowCount, 1);
  assert.equal(op.visitCount, 1);
  const delta = op.takeDelta();
  assert.deepEqual(delta.removals.map((r) => r.userId), ['gone'], 'the state log forgets the window');
  assert.equal(delta.visits.removals.length, 1, 'and the visit');
  assert.equal(op.process(e('gone-2', 'gone', T + 3000), T), 'erased');
  assert.equal(op.process(e('gone-3', 'gone', T + 4001), T), 'counted', 'a user who returns later counts again');
});
