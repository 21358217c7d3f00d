/**
 * Scale-out: two processor instances share the partitions of one consumer group; one is killed
 * mid-stream and the survivor takes its partitions with their checkpointed state; then
 * partitions are added to website-clicks and a third instance joins. Both sinks must still
 * equal the reference exactly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { createTestDatabase, createTestTopics, testBrokers, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { generateStream, produceStream, readTopicLog } from './support/stream.js';
import { outboxDrained, postgresMatches, referenceFor, sinkProblems, spawnProcessor, type ProcessorProcess } from './support/harness.js';

/** The partitions an instance reported in its latest assignment. */
function assignedPartitions(instance: ProcessorProcess): number[] | undefined {
  const matches = [...instance.output().matchAll(/assigned partitions \[([\d, ]*)\]/g)];
  const last = matches[matches.length - 1];
  if (!last) return undefined;
  return last[1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
}

test('instances joining, dying and new partitions keep the results exact', async (context) => {
  const t = testScope(context);
  const brokers = testBrokers();
  const { prefix, topics } = await createTestTopics(t);
  const databaseUrl = await createTestDatabase(t);
  const env = { KAFKA_BROKERS: brokers.join(','), DATABASE_URL: databaseUrl, TOPIC_PREFIX: prefix, PROCESSOR_GROUP: uniqueId('scale-') };
  const baseTime = Math.floor((Date.now() - 3_600_000) / 5000) * 5000;
  const phaseA = generateStream({ seed: 11, events: 5000, users: 100, spanMs: 250_000, baseTime });
  // After new partitions a user's events move to another partition, so phase B starts after a
  // gap and has no late events: windows must not straddle the change (see ARCHITECTURE.md).
  const phaseB = generateStream({ seed: 12, events: 2000, users: 100, spanMs: 100_000, baseTime: baseTime + 270_000, lateRate: 0, tooLateRate: 0 });

  const first = spawnProcessor(env);
  const second = spawnProcessor(env);
  t.after(() => first.child.kill('SIGKILL'));
  t.after(() => second.child.kill('SIGKILL'));
  await waitFor('both instances to share the partitions', async () => {
    const a = assignedPartitions(first) ?? [];
    const b = assignedPartitions(second) ?? [];
    return a.length > 0 && b.length > 0 && a.length + b.length === 6;
  }, { timeoutMs: 120_000 }).catch((error: Error) => {
    throw new Error(`${error.message}\nfirst:\n${first.output().slice(-1500)}\nsecond:\n${second.output().slice(-1500)}`);
  });

  const half = Math.floor(phaseA.length / 2);
  await produceStream(brokers, topics.clicks, phaseA.slice(0, half), 6, { sentinels: false });
  await sleep(1500);
  first.child.kill('SIGKILL');
  await first.exited;
  await produceStream(brokers, topics.clicks, phaseA.slice(half), 6, { sentinels: false });
  await waitFor('the survivor to own every partition', async () => assignedPartitions(second)?.length === 6, { timeoutMs: 60_000 });

  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createPartitions({ topicPartitions: [{ topic: topics.clicks, count: 8 }] });
  await admin.disconnect();
  const third = spawnProcessor(env);
  t.after(() => third.child.kill('SIGKILL'));
  await waitFor('the instances to share 8 partitions', async () => {
    const b = assignedPartitions(second) ?? [];
    const c = assignedPartitions(third) ?? [];
    return b.length > 0 && c.length > 0 && b.length + c.length === 8;
  }, { timeoutMs: 90_000 });

  await produceStream(brokers, topics.clicks, phaseB, 8, { sentinels: true });
  const reference = await referenceFor(brokers, topics);
  await waitFor('user_metrics to hold the reference windows', () => postgresMatches(databaseUrl, reference), { timeoutMs: 120_000, intervalMs: 500 }).catch(
    (error: Error) => {
      throw new Error(`${error.message}\nsecond:\n${second.output().slice(-2000)}\nthird:\n${third.output().slice(-2000)}`);
    },
  );
  await waitFor('the outbox to drain to Kafka', () => outboxDrained(databaseUrl), { timeoutMs: 60_000, intervalMs: 200 });
  assert.deepEqual((await sinkProblems(brokers, topics, databaseUrl, reference)).slice(0, 20), []);
  const log = await readTopicLog(brokers, topics.clicks, { readUncommitted: true });
  assert.ok(log[6]!.length > 1 && log[7]!.length > 1, 'the added partitions carried events, and they were counted');
});
