/**
 * Durability against real brokers: what the collector acknowledges is on website-clicks, once;
 * with its broker stopped it answers 503 within its bound and acknowledges nothing; when the
 * broker is back it accepts again without a restart.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureTopics, freePort, KafkaBroker } from '@clickstream/local-infra';
import { collectTopic, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { Kafka, logLevel } from 'kafkajs';
import { EnrichedEventSchema, topicNames, type ClientEvent } from '@clickstream/shared';
import { Value } from '@sinclair/typebox/value';
import { buildCollectorApp } from '../src/app.js';
import { parseCollectorConfig } from '../src/env.js';
import { EventProducer } from '../src/event-producer.js';
import { CollectorMetrics } from '../src/metrics.js';
import { pageView, startTestCollector } from './helpers.js';

const json = { 'content-type': 'application/json' };

test('concurrent requests are coalesced, and every acknowledged event is on website-clicks exactly once, as sent', async (context) => {
  const t = testScope(context);
  const { app, topics, metrics } = await startTestCollector(t, { PRODUCE_LINGER_MS: '5' });
  const { messages } = await collectTopic(t, topics.clicks);
  const sent = new Map<string, ClientEvent>();
  const requests = Array.from({ length: 60 }, (_, i) => {
    const events = Array.from({ length: i % 2 === 0 ? 1 : 20 }, () => pageView({ userId: `user-${i % 7}`, title: `request ${i}` }));
    for (const e of events) sent.set(e.id, e);
    const payload = events.length === 1 ? events[0] : { sentAt: Date.now(), events };
    return app.inject({ method: 'POST', url: '/v1/events', headers: json, payload: JSON.stringify(payload) });
  });
  const responses = await Promise.all(requests);
  for (const r of responses) assert.equal(r.statusCode, 202, r.body);
  const acknowledged = responses.reduce((n, r) => n + r.json().accepted, 0);
  assert.equal(acknowledged, sent.size);

  await waitFor('every acknowledged event', async () => messages.length >= acknowledged, { timeoutMs: 20_000 });
  const ids = messages.map((m) => JSON.parse(m.value!).id as string);
  assert.equal(new Set(ids).size, ids.length, 'no event written twice');
  assert.deepEqual(new Set(ids), new Set(sent.keys()));
  for (const message of messages) {
    const stored = JSON.parse(message.value!) as Record<string, unknown>;
    assert.ok(Value.Check(EnrichedEventSchema, stored), message.value!);
    const original = sent.get(stored.id as string)!;
    assert.equal(message.key, original.userId);
    for (const [field, value] of Object.entries(original)) assert.deepEqual((stored as Record<string, unknown>)[field], value, field);
  }
  const produceCalls = (await metrics.produceBatchSize.get()).values.find((v) => v.metricName?.endsWith('_count'))!.value;
  assert.ok(produceCalls < requests.length, `${requests.length} requests should share produce calls, got ${produceCalls} calls`);
});

test('with its broker stopped the collector answers 503 within its bound and acknowledges nothing; after restart it accepts again', async (context) => {
  const t = testScope(context);
  const dataDir = await mkdtemp(join(tmpdir(), 'collector-broker-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const broker = new KafkaBroker({ dataDir, port: await freePort(), controllerPort: await freePort() });
  await broker.start();
  t.after(() => broker.stop());
  const topics = topicNames(`${uniqueId()}-`);
  await ensureTopics(broker.brokers, topics, 2);

  const timeoutMs = 2000;
  const config = parseCollectorConfig({ KAFKA_BROKERS: broker.brokers.join(','), COLLECTOR_PORT: '0', PRODUCE_TIMEOUT_MS: String(timeoutMs) });
  const producer = new EventProducer({ brokers: config.kafkaBrokers, topics, produceTimeoutMs: timeoutMs, metrics: new CollectorMetrics() });
  await producer.connect();
  t.after(() => producer.disconnect());
  const app = buildCollectorApp({ config, producer });
  t.after(() => app.close());
  const post = (event: ClientEvent) => app.inject({ method: 'POST', url: '/v1/events', headers: json, payload: JSON.stringify(event) });

  const before = pageView();
  assert.equal((await post(before)).statusCode, 202);

  await broker.stop();
  const refused: ClientEvent[] = [];
  for (let i = 0; i < 3; i++) {
    const event = pageView();
    const started = Date.now();
    const response = await post(event);
    const took = Date.now() - started;
    assert.equal(response.statusCode, 503, response.body);
    assert.equal(response.headers['retry-after'], '2');
    assert.ok(took <= timeoutMs + 500, `answered in ${took} ms, bound ${timeoutMs} ms`);
    refused.push(event);
  }
  assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 503);

  await broker.start();
  await waitFor('the collector to reconnect', async () => (await app.inject({ method: 'GET', url: '/healthz' })).statusCode === 200, { timeoutMs: 60_000 });
  const afterRestart = pageView();
  const accepted = await post(afterRestart);
  assert.equal(accepted.statusCode, 202, accepted.body);

  const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueId('check-'), maxWaitTimeInMs: 100 });
  t.after(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic: topics.clicks, fromBeginning: true });
  const ids: string[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void ids.push(JSON.parse(message.value!.toString()).id) });
  await waitFor('the events before and after the outage', async () => ids.includes(before.id) && ids.includes(afterRestart.id), { timeoutMs: 30_000 });
  for (const event of refused) assert.ok(!ids.includes(event.id), 'an event answered 503 was not written later either');
  assert.equal(ids.filter((id) => id === before.id).length, 1);
});
