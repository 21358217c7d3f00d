import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createTestTopics, testBrokers, testScope } from '@clickstream/local-infra/testing';
import type { ClientEvent, TopicNames } from '@clickstream/shared';
import type { Logger } from '@clickstream/shared/logger';
import { buildCollectorApp } from '../src/app.js';
import { parseCollectorConfig, type CollectorConfig } from '../src/env.js';
import { EventProducer } from '../src/event-producer.js';
import { CollectorMetrics } from '../src/metrics.js';

type Scope = ReturnType<typeof testScope>;

export interface TestCollector {
  app: FastifyInstance;
  producer: EventProducer;
  topics: TopicNames;
  config: CollectorConfig;
  metrics: CollectorMetrics;
}

/** A collector app wired to the real test broker, on fresh topics, closed with the test. */
export async function startTestCollector(
  t: Scope,
  env: Record<string, string> = {},
  brokers = testBrokers(),
  { logger }: { logger?: Logger } = {},
): Promise<TestCollector> {
  const { prefix, topics } = await createTestTopics(t, 2);
  const config = parseCollectorConfig({ KAFKA_BROKERS: brokers.join(','), TOPIC_PREFIX: prefix, COLLECTOR_PORT: '0', ...env });
  const metrics = new CollectorMetrics();
  const producer = new EventProducer({
    brokers: config.kafkaBrokers,
    topics,
    produceTimeoutMs: config.produceTimeoutMs,
    lingerMs: config.produceLingerMs,
    maxBatchEvents: config.produceMaxBatchEvents,
    concurrency: config.produceConcurrency,
    compression: config.produceCompression,
    metrics,
  });
  await producer.connect();
  t.after(() => producer.disconnect());
  const app = buildCollectorApp({ config, producer, metrics, logger });
  t.after(() => app.close());
  return { app, producer, topics, config, metrics };
}

export function eventId(): string {
  return `e${randomBytes(8).toString('hex')}`;
}

export function pageView(over: Partial<ClientEvent> = {}): ClientEvent {
  return { id: eventId(), type: 'page_view', userId: 'u1', sessionId: 's1', ts: Date.now(), url: 'https://shop.example/', ...over };
}
