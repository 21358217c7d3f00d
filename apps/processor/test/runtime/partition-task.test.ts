import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EnrichedEvent } from '@clickstream/shared';
import { MAX_RECORDS_PER_OUTBOX_ENTRY, PartitionTask } from '../../src/runtime/partition-task.js';
import type { KafkaOutboxSink } from '../../src/sinks/kafka-sink.js';

const T0 = 1_700_000_000_000;
const config = { windowSizeMs: 5000, outOfOrdernessMs: 2000, allowedLatenessMs: 60_000, idleTimeoutMs: 1000, retryHorizonMs: 30_000, countBots: false, sessionGapMs: 1_800_000 };

function encoded(i: number, eventTime: number): Buffer {
  const event: EnrichedEvent = {
    id: `evt-${i}-xxxx`, type: 'page_view', siteId: 'shop', userId: `u${i}`, sessionId: 's', ts: eventTime,
    url: 'https://shop.example/a', receivedAt: eventTime, eventTime, browser: 'Chrome', os: 'Linux', deviceType: 'desktop', isBot: false,
  };
  return Buffer.from(JSON.stringify(event));
}

test('a checkpoint with more output than one outbox entry may hold splits it over consecutive entries', () => {
  const claimed = { clusterChanged: false, epoch: 3, nextOffset: -1, outboxSeq: 7, stateSeq: 0, stateLogBytes: 0, snapshot: { watermark: { maxEventTime: -Infinity, watermark: -Infinity }, windows: [], visits: [], nextVisitId: 1 }, erasures: [] };
  const task = new PartitionTask({ consumerGroup: 'g', topic: 't', partition: 0 }, claimed, 0, config, T0, {} as KafkaOutboxSink);
  const users = MAX_RECORDS_PER_OUTBOX_ENTRY + 5;
  for (let i = 0; i < users; i++) assert.equal(task.apply(i, encoded(i, T0 + 100), T0), 'counted');
  assert.equal(task.apply(users, encoded(users, T0 + 10_000), T0), 'counted', 'an event that moves the watermark past the first window');
  const checkpoint = task.cutCheckpoint(T0);
  assert.equal(checkpoint.results.length, users);
  assert.equal(checkpoint.visits.length, users + 1, 'every user opened a visit');
  const records = checkpoint.results.length + checkpoint.visits.length;
  assert.deepEqual(checkpoint.outbox.map((e) => [e.seq, e.records.length]), [
    [8, MAX_RECORDS_PER_OUTBOX_ENTRY],
    [9, MAX_RECORDS_PER_OUTBOX_ENTRY],
    [10, records - 2 * MAX_RECORDS_PER_OUTBOX_ENTRY],
  ]);
  assert.equal(checkpoint.outboxSeq, 10, 'the partition row records the last entry');
  const next = task.cutCheckpoint(T0 + 1);
  assert.deepEqual(next.outbox, [], 'nothing new: no entry');
  assert.equal(next.outboxSeq, 10);
});
