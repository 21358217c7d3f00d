/**
 * Private infrastructure for a chaos run: a Kafka broker and an embedded PostgreSQL that only
 * this run uses, so they can be restarted without touching anyone else's (never the machine's
 * shared servers).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDatabase, migrate } from '@clickstream/db';
import { KafkaBroker, ensurePostgres, ensureTopics, freePort, type PostgresHandle } from '@clickstream/local-infra';
import { topicNames, type TopicNames } from '@clickstream/shared';

export interface PrivateInfra {
  brokers: string[];
  databaseUrl: string;
  topics: TopicNames;
  prefix: string;
  partitions: number;
  restartKafka(): Promise<void>;
  restartPostgres(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateInfra({ partitions = 6, log = (_: string) => {} } = {}): Promise<PrivateInfra> {
  const root = mkdtempSync(join(tmpdir(), 'clickstream-chaos-'));
  // As root, PostgreSQL runs as the postgres user, which must be able to enter the folder.
  chmodSync(root, 0o755);
  const kafkaDir = join(root, 'kafka');
  const pgDir = join(root, 'pg');
  const broker = new KafkaBroker({
    dataDir: kafkaDir,
    port: await freePort(),
    controllerPort: await freePort(),
    heap: '512m',
    log,
  });
  const pgPort = await freePort();
  let postgres: PostgresHandle | undefined;
  const stop = async () => {
    await postgres?.stop().catch(() => {});
    await broker.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await broker.start();
    postgres = await ensurePostgres({ port: pgPort, dataDir: pgDir, log });
    if (postgres.source !== 'embedded') throw new Error(`expected a private embedded PostgreSQL on ${pgPort}, found ${postgres.source}`);
    const databaseUrl = `${postgres.serverUrl}/clickstream`;
    await ensureDatabase(databaseUrl);
    await migrate(databaseUrl);
    const prefix = 'chaos-';
    const topics = topicNames(prefix);
    await ensureTopics(broker.brokers, topics, partitions);
    return {
      brokers: broker.brokers,
      databaseUrl,
      topics,
      prefix,
      partitions,
      restartKafka: () => broker.restart(),
      restartPostgres: async () => {
        await postgres!.stop();
        postgres = await ensurePostgres({ port: pgPort, dataDir: pgDir, log });
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
