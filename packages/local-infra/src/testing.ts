import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import pg from 'pg';
import { topicNames, type TopicNames } from '@clickstream/shared';
import { ensureDatabase, migrate } from '@clickstream/db';
import { ensureTopics } from './topics.js';
import { serverUrlOf } from './postgres.js';
import { waitFor } from './ports.js';

/**
 * Helpers for integration tests. `npm test` (scripts/test.ts) starts a real broker and points
 * KAFKA_BROKERS and DATABASE_URL at it and at a real PostgreSQL; each helper registers its own
 * cleanup on the test context.
 */

type Hookable = Pick<TestContext, 'after'> | { after: (fn: () => unknown) => void };

/**
 * Cleanups that run in reverse order of registration (node:test runs `t.after` hooks in the order
 * they were added), so what was set up first - a database, a topic - is torn down last.
 */
export function testScope(t: Hookable): { after: (fn: () => unknown) => void } {
  const steps: Array<() => unknown> = [];
  t.after(async () => {
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (error) {
        process.stderr.write(`cleanup step failed: ${(error as Error).message}\n`);
      }
    }
  });
  return { after: (fn) => void steps.push(fn) };
}

export function requireEnv(name: 'KAFKA_BROKERS' | 'DATABASE_URL'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run integration tests through "npm test", which starts Kafka and PostgreSQL`);
  return value;
}

export function testBrokers(): string[] {
  return requireEnv('KAFKA_BROKERS').split(',');
}

export function uniqueId(prefix = 't'): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** Creates the four platform topics under a fresh prefix, and deletes them after the test. */
export async function createTestTopics(t: Hookable, partitions = 6): Promise<{ prefix: string; topics: TopicNames }> {
  const prefix = `${uniqueId()}-`;
  const topics = topicNames(prefix);
  const brokers = testBrokers();
  await ensureTopics(brokers, topics, partitions);
  t.after(async () => {
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
    await admin.disconnect();
  });
  return { prefix, topics };
}

/** A fresh, migrated database for one test, dropped afterwards. */
export async function createTestDatabase(t: Hookable): Promise<string> {
  const server = serverUrlOf(requireEnv('DATABASE_URL'));
  const name = uniqueId('cs_test_').toLowerCase();
  const url = `${server}/${name}`;
  await ensureDatabase(url);
  await migrate(url);
  t.after(async () => {
    const client = new pg.Client({ connectionString: `${server}/postgres` });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    await client.end();
  });
  return url;
}

export interface ReceivedMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: KafkaMessage['headers'];
}

/**
 * Reads a topic from the beginning into an array, with read_committed isolation unless told
 * otherwise. Stops with the test.
 */
export async function collectTopic(
  t: Hookable,
  topic: string,
  { readUncommitted = false } = {},
): Promise<{ messages: ReceivedMessage[]; consumer: Consumer }> {
  const kafka = new Kafka({ brokers: testBrokers(), clientId: 'test-reader', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueId('reader-'), readUncommitted, maxWaitTimeInMs: 100 });
  const messages: ReceivedMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      messages.push({
        partition,
        offset: message.offset,
        key: message.key?.toString('utf8') ?? null,
        value: message.value?.toString('utf8') ?? null,
        headers: message.headers,
      });
    },
  });
  t.after(() => consumer.disconnect());
  return { messages, consumer };
}

export { waitFor };

/**
 * A desktop browser's User-Agent. Node's fetch says "node" and headless Chromium says
 * "HeadlessChrome", which the collector rightly flags as bots, and bots count in no metric: a
 * test or a load that plays a person sends this.
 */
export const DESKTOP_USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export { generateStream, outboxDrained, produceStream, readTopicLog, seededRandom, sentinelEvent, type StreamOptions } from './event-streams.js';

/** One query on a connection of its own, for tests that only need to look (e.g. at information_schema). */
export async function queryRows<T extends Record<string, unknown>>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
