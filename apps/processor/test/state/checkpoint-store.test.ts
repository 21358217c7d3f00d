/** The checkpoint store against a real PostgreSQL: fencing, restore, cluster changes, outbox trim. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDatabase, testScope } from '@clickstream/local-infra/testing';
import { CheckpointStore, type Checkpoint, type PartitionRef } from '../../src/state/checkpoint-store.js';
import { FencedError } from '../../src/errors.js';

const ref: PartitionRef = { consumerGroup: 'g', topic: 'website-clicks', partition: 3 };
const watermark = { maxEventTime: 12_000, watermark: 10_000 };
const window = (userId: string, start: number) => ({
  siteId: 's', userId, start, ids: [`id-${userId}-${start}`], paths: ['/'], sessions: ['x'],
  pageViews: 1, clicks: 0, customEvents: 0, engagedMs: 0, revision: -1,
});

function checkpoint(epoch: number, overrides: Partial<Checkpoint> = {}): Checkpoint {
  return {
    ref, epoch, nextOffset: 100, results: [], outbox: [], outboxSeq: 0, stateSeq: 0, deliveredSeq: 0,
    delta: { watermark, upserts: [], removals: [] },
    ...overrides,
  };
}

test('claims fence older owners, restore state, and start over on another Kafka cluster', async (context) => {
  const t = testScope(context);
  const store = new CheckpointStore(await createTestDatabase(t));
  t.after(() => store.close());

  const first = await store.claim(ref, 'cluster-a');
  assert.equal(first.epoch, 1);
  assert.equal(first.nextOffset, -1);
  const delta = { watermark, upserts: [window('u1', 0), window('u2', 0)], removals: [] };
  await store.commit(
    checkpoint(first.epoch, {
      delta,
      stateSeq: 1,
      state: { seq: 1, kind: 'delta', payload: JSON.stringify(delta) },
      outboxSeq: 1,
      outbox: [{ seq: 1, records: [{ t: 'metrics', k: 'u1', v: '{}' }] }],
    }),
  );

  const second = await store.claim(ref, 'cluster-a');
  assert.equal(second.epoch, 2);
  assert.equal(second.nextOffset, 100);
  assert.equal(second.clusterChanged, false);
  assert.deepEqual(second.snapshot.watermark, watermark);
  assert.deepEqual(second.snapshot.windows.map((w) => w.userId).sort(), ['u1', 'u2']);
  assert.deepEqual((await store.readOutbox(ref, 0)).map((e) => e.seq), [1]);

  await assert.rejects(store.commit(checkpoint(first.epoch, { nextOffset: 200 })), FencedError, 'the old owner is fenced');

  await store.commit(checkpoint(second.epoch, { nextOffset: 150, outboxSeq: 1, stateSeq: 1, deliveredSeq: 1 }));
  assert.deepEqual(await store.readOutbox(ref, 0), [], 'delivered entries are trimmed by the checkpoint');

  const third = await store.claim(ref, 'cluster-b');
  assert.equal(third.clusterChanged, true);
  assert.equal(third.nextOffset, -1, 'offsets of another cluster are discarded');
  assert.equal(third.epoch, 3);
});
