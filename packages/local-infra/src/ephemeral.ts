import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDatabase } from '@clickstream/db';
import { KafkaBroker } from './kafka-broker.js';
import { ensurePostgres } from './postgres.js';
import { freePort } from './ports.js';
import { localDataDir } from './paths.js';

export interface EphemeralInfra {
  brokers: string;
  /** A database URL on the server; tests and benches make their own databases beside it. */
  databaseUrl: string;
  broker: KafkaBroker | undefined;
  stop(): Promise<void>;
}

/**
 * Kafka and PostgreSQL for a test or bench run: a throw-away broker on free ports (or the one
 * TEST_KAFKA_BROKERS names) and the PostgreSQL server ensurePostgres finds.
 */
export async function startEphemeralInfra(log: (message: string) => void): Promise<EphemeralInfra> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch((e: Error) => log(`cleanup step failed: ${e.message}`));
  };
  try {
    let brokers = process.env.TEST_KAFKA_BROKERS;
    let broker: KafkaBroker | undefined;
    if (!brokers) {
      const started = Date.now();
      const dataDir = mkdtempSync(join(tmpdir(), 'clickstream-kafka-'));
      broker = new KafkaBroker({
        dataDir,
        port: await freePort(),
        controllerPort: await freePort(),
        log,
        // Tests kill processes mid-transaction; a short cap keeps read_committed readers moving.
        overrides: { 'transaction.max.timeout.ms': 60_000 },
      });
      const started_ = broker;
      stops.push(async () => {
        await started_.stop();
        rmSync(dataDir, { recursive: true, force: true });
      });
      await broker.start();
      brokers = broker.brokers.join(',');
      log(`Kafka broker up at ${brokers} in ${Date.now() - started} ms`);
    }
    const postgres = await ensurePostgres({ databaseUrl: process.env.DATABASE_URL, dataDir: join(localDataDir, 'postgres'), log });
    stops.push(() => postgres.stop());
    const databaseUrl = `${postgres.serverUrl}/postgres`;
    await ensureDatabase(databaseUrl);
    log(`PostgreSQL: ${postgres.source} (${postgres.serverUrl})`);
    return { brokers, databaseUrl, broker, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
