/**
 * Crash test: the processor binary is killed with SIGKILL at every step of its exactly-once
 * protocol (PROCESSOR_CRASH_AT) and at random moments from outside, restarted each time, while
 * the stream keeps arriving. Both sinks must still equal the reference exactly, with no
 * duplicate (site, user, window, revision) on user-metrics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, createTestTopics, testBrokers, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { generateStream, produceStream, seededRandom } from './support/stream.js';
import { outboxDrained, postgresMatches, referenceFor, sinkProblems, spawnProcessor } from './support/harness.js';

const CRASH_SPECS = [
  'mid-batch:700',
  'before-checkpoint-commit:4',
  'after-checkpoint-commit:5',
  'before-delivery-commit:2',
  'after-delivery-commit:3',
  // Each run gets a fresh chunk of 1,000 events, so counts stay below that to be reached.
  'mid-batch:600',
];
const EXTERNAL_KILLS = 2;

test('SIGKILL at each step of the protocol and at random moments loses and doubles nothing', async (context) => {
  const t = testScope(context);
  const brokers = testBrokers();
  const { prefix, topics } = await createTestTopics(t);
  const databaseUrl = await createTestDatabase(t);
  const baseTime = Math.floor((Date.now() - 3_600_000) / 5000) * 5000;
  const events = generateStream({ seed: 7, events: 8000, users: 120, spanMs: 400_000, baseTime });
  const runs = CRASH_SPECS.length + EXTERNAL_KILLS;
  const chunk = Math.ceil(events.length / runs);
  const env = { KAFKA_BROKERS: brokers.join(','), DATABASE_URL: databaseUrl, TOPIC_PREFIX: prefix, PROCESSOR_GROUP: uniqueId('crash-') };
  const random = seededRandom(99);
  let kills = 0;

  for (let run = 0; run < runs; run++) {
    await produceStream(brokers, topics.clicks, events.slice(run * chunk, (run + 1) * chunk), 6, { sentinels: false });
    const spec = CRASH_SPECS[run];
    const processor = spawnProcessor(spec ? { ...env, PROCESSOR_CRASH_AT: spec } : env);
    t.after(() => processor.child.kill('SIGKILL'));
    if (spec) {
      const outcome = await Promise.race([processor.exited, sleep(60_000, undefined, { ref: false }).then(() => undefined)]);
      assert.ok(outcome, `the processor reached crash point ${spec}; output:\n${processor.output().slice(-2000)}`);
      assert.equal(outcome.signal, 'SIGKILL', `killed at ${spec}; output:\n${processor.output().slice(-2000)}`);
    } else {
      await sleep(2500 + random() * 4000);
      processor.child.kill('SIGKILL');
      await processor.exited;
    }
    kills += 1;
  }

  await produceStream(brokers, topics.clicks, [], 6, { sentinels: false });
  // Sentinels push every partition's watermark past all real windows.
  await produceStream(brokers, topics.clicks, events.slice(0, 1).map((e) => ({ ...e })), 6, { sentinels: true });
  const reference = await referenceFor(brokers, topics);
  const final = spawnProcessor(env);
  t.after(() => final.child.kill('SIGKILL'));
  await waitFor('user_metrics to hold the reference windows', () => postgresMatches(databaseUrl, reference), { timeoutMs: 180_000, intervalMs: 500 }).catch(
    (error: Error) => {
      throw new Error(`${error.message}\nprocessor output:\n${final.output().slice(-3000)}`);
    },
  );
  await waitFor('the outbox to drain to Kafka', () => outboxDrained(databaseUrl), { timeoutMs: 60_000, intervalMs: 200 });
  final.child.kill('SIGTERM');
  const { code } = await final.exited;
  assert.equal(code, 0, 'SIGTERM drains and exits 0');

  assert.ok(kills >= 5, `${kills} kills`);
  assert.deepEqual((await sinkProblems(brokers, topics, databaseUrl, reference)).slice(0, 20), []);
});
