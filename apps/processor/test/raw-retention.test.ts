/**
 * Raw topics keep events at most RAW_RETENTION_DAYS (contract, "Erasure"): topics are created with
 * that retention.ms, and the processor binary sets it on start on topics that already exist,
 * keeping their other dynamic configs (AlterConfigs replaces them all). Results topics keep the
 * broker's default.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs, { Kafka, logLevel, type Admin } from 'kafkajs';
import { ConfigError, RESULTS_RETENTION_MS } from '@clickstream/shared';
import { createTestDatabase, createTestTopics, testBrokers, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { parseProcessorConfig } from '../src/env.js';
import { spawnProcessor } from './support/harness.js';

const DAY_MS = 86_400_000;

/** The topic's own (dynamic) configs, by name. */
async function topicConfigs(admin: Admin, topic: string): Promise<Record<string, string>> {
  const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic }] });
  const entries = resources[0]!.configEntries.filter((e) => e.configSource === kafkajs.ConfigSource.TOPIC_CONFIG);
  return Object.fromEntries(entries.map((e) => [e.configName, e.configValue]));
}

test('RAW_RETENTION_DAYS: a whole number of days from 1, 7 by default; a bad value names the setting', () => {
  assert.equal(parseProcessorConfig({}).rawRetentionMs, 7 * DAY_MS);
  assert.equal(parseProcessorConfig({ RAW_RETENTION_DAYS: '30' }).rawRetentionMs, 30 * DAY_MS);
  for (const bad of ['0', '-1', '1.5', 'week']) {
    assert.throws(
      () => parseProcessorConfig({ RAW_RETENTION_DAYS: bad }),
      (error: unknown) => error instanceof ConfigError && error.setting === 'RAW_RETENTION_DAYS' && /RAW_RETENTION_DAYS/.test(error.message),
      bad,
    );
  }
});

test('raw topics are created with RAW_RETENTION_DAYS; the processor sets it on existing ones and keeps their other configs', async (context) => {
  const t = testScope(context);
  const { prefix, topics } = await createTestTopics(t, 1);
  const admin = new Kafka({ brokers: testBrokers(), clientId: 'raw-retention-test', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  t.after(() => admin.disconnect());

  // As created: 7 days on the raw topics, the broker's default on the results topics.
  for (const raw of [topics.clicks, topics.late, topics.invalid]) {
    const configs = await topicConfigs(admin, raw);
    assert.equal(configs['retention.ms'], String(7 * DAY_MS), raw);
    assert.equal(configs['segment.ms'], String(DAY_MS), `${raw} rolls a segment daily`);
  }
  for (const results of [topics.metrics, topics.sessions]) assert.equal((await topicConfigs(admin, results))['retention.ms'], String(RESULTS_RETENTION_MS), results);

  // An operator's own setting on the topic, which a plain AlterConfigs of retention.ms would drop,
  // and weekly segments, with which events would outlive the retention by up to a week.
  const before = { ...(await topicConfigs(admin, topics.clicks)), 'segment.ms': String(7 * DAY_MS) };
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: kafkajs.ConfigResourceTypes.TOPIC,
        name: topics.clicks,
        configEntries: [...Object.entries(before).map(([name, value]) => ({ name, value })), { name: 'max.message.bytes', value: '2000000' }],
      },
    ],
  });
  assert.equal((await topicConfigs(admin, topics.clicks))['max.message.bytes'], '2000000');
  assert.equal((await topicConfigs(admin, topics.clicks))['segment.ms'], String(7 * DAY_MS));

  const processor = spawnProcessor({
    KAFKA_BROKERS: testBrokers().join(','),
    DATABASE_URL: await createTestDatabase(t),
    TOPIC_PREFIX: prefix,
    PROCESSOR_GROUP: uniqueId('retention-'),
    RAW_RETENTION_DAYS: '3',
  });
  t.after(async () => {
    processor.child.kill('SIGKILL');
    await processor.exited;
  });
  // The retention is enforced before the processor starts consuming, which it then logs.
  await waitFor('the processor to start', async () => /processor consuming/.test(processor.output()), { timeoutMs: 60_000, intervalMs: 100 }).catch((error: Error) => {
    throw new Error(`${error.message}\nprocessor output:\n${processor.output().slice(-3000)}`);
  });

  const clicks = await topicConfigs(admin, topics.clicks);
  assert.equal(clicks['retention.ms'], '259200000', 'website-clicks keeps events 3 days');
  assert.equal(clicks['segment.ms'], String(DAY_MS), 'website-clicks rolls a segment daily again');
  assert.equal(clicks['max.message.bytes'], '2000000', 'the other dynamic configs are kept');
  assert.equal(clicks['min.insync.replicas'], '1');
  assert.equal((await topicConfigs(admin, topics.late))['retention.ms'], '259200000');
  assert.equal((await topicConfigs(admin, topics.invalid))['retention.ms'], '259200000');
  assert.equal((await topicConfigs(admin, topics.metrics))['retention.ms'], String(RESULTS_RETENTION_MS), 'results topics keep their own retention');
  assert.equal((await topicConfigs(admin, topics.sessions))['retention.ms'], String(RESULTS_RETENTION_MS));
  assert.match(processor.output(), /retention\.ms set to 259200000/);
});
