import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PG_MIGRATE_LOCK_ID, runner } from 'node-pg-migrate';

const migrationsDir = fileURLToPath(new URL('../migrations', import.meta.url));

/**
 * Brings the schema up to date. Safe to call from several processes at once (the processor and
 * the dashboard start together, and so do scaled-out instances): node-pg-migrate's own lock is
 * try-or-fail ("Another migration is already running" crashed the second process), so this
 * waits for the same advisory lock on its own connection and then migrates on that connection.
 */
export async function migrate(databaseUrl: string, log: (message: string) => void = () => {}): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'clickstream-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID]);
    await runner({
      dbClient: client,
      dir: migrationsDir,
      direction: 'up',
      migrationsTable: 'clickstream_migrations',
      count: Infinity,
      log,
      verbose: false,
      singleTransaction: true,
      noLock: true,
    });
  } finally {
    // Ending the session releases the lock too; unlocking first lets the next process in at once.
    await client.query('SELECT pg_advisory_unlock($1)', [PG_MIGRATE_LOCK_ID]).catch(() => {});
    await client.end().catch(() => {});
  }
}
