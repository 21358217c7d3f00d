import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import { ensureDatabase } from '../src/database.js';
import { migrate } from '../src/migrate.js';

test('services starting together all migrate a fresh database, none fails on the lock', async (t) => {
  const serverUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const name = `cs_migrate_${randomBytes(5).toString('hex')}`;
  const url = new URL(`/${name}`, serverUrl).toString();
  await ensureDatabase(url);
  t.after(async () => {
    const admin = new pg.Client({ connectionString: serverUrl.toString() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => migrate(url)));
  assert.deepEqual(
    outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok')),
    ['ok', 'ok', 'ok', 'ok'],
  );
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ runs: number; tables: number }>(
    `SELECT (SELECT count(*)::int FROM clickstream_migrations) AS runs,
            (SELECT count(*)::int FROM pg_tables WHERE tablename IN ('user_metrics', 'processor_outbox')) AS tables`,
  );
  await client.end();
  const migrations = (await import('node:fs')).readdirSync(new URL('../migrations', import.meta.url)).filter((f) => f.endsWith('.sql'));
  assert.equal(rows[0]!.runs, migrations.length, 'each migration applied exactly once');
  assert.equal(rows[0]!.tables, 2);
});
