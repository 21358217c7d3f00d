import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';

const migrationsDir = fileURLToPath(new URL('../migrations', import.meta.url));

/**
 * Brings the schema up to date. Safe to call from several processes at once: node-pg-migrate
 * holds an advisory lock while it runs.
 */
export async function migrate(databaseUrl: string, log: (message: string) => void = () => {}): Promise<void> {
  await runner({
    databaseUrl,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: 'clickstream_migrations',
    count: Infinity,
    log,
    verbose: false,
    singleTransaction: true,
  });
}
