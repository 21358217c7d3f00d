/**
 * Erasure over HTTP against a real PostgreSQL and Kafka (contract, "Erasure"): DELETE removes the
 * user's windows, visits and presence rows and logs the erasure; the deletion markers reach
 * `user-metrics` and `user-sessions` only after every processor outbox entry committed before the
 * erasure was delivered, and the live feed passes window deletions on. Markers left pending (a
 * dashboard that died, Kafka down, an outbox that would not drain) are sent by the resend loop.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import WebSocket from 'ws';
import type { ErasureRecord } from '@clickstream/db';
import { collectTopic, createTestDatabase, createTestTopics, testBrokers, testScope, waitFor } from '@clickstream/local-infra/testing';
import { UserErasure, type MarkerSink } from '../../src/server/erasure.js';
import { AUTH, seedWindows, startTestDashboard, windowResult } from './helpers.js';

type Scope = ReturnType<typeof testScope>;

const BASE = Date.UTC(2026, 0, 5, 9, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

async function seedVisit(pool: pg.Pool, siteId: string, userId: string, start: number): Promise<void> {
  await pool.query(
    `INSERT INTO user_sessions (site_id, user_id, session_start, session_end, duration_ms, page_views, events, entry_page, exit_page,
                                source, browser, os, device_type, bounce, open, revision)
     VALUES ($1, $2, $3, $4, 9000, 1, 2, '/', '/', 'Direct / None', 'Firefox', 'Linux', 'desktop', false, false, 0)`,
    [siteId, userId, new Date(start), new Date(start + 9000)],
  );
}

async function seedPresence(pool: pg.Pool, siteId: string, userId: string): Promise<void> {
  await pool.query(`INSERT INTO visitor_presence (site_id, dimension, bucket_start, value, user_id) VALUES ($1, 'page', $2, '/', $3)`, [
    siteId,
    new Date(BASE),
    userId,
  ]);
}

async function insertOutboxEntry(pool: pg.Pool, seq: number): Promise<void> {
  await pool.query(`INSERT INTO processor_outbox (consumer_group, topic, partition, seq, records) VALUES ('clickstream-processor', 'website-clicks', 0, $1, '[]')`, [
    seq,
  ]);
}

const count = async (pool: pg.Pool, table: string, userId: string) =>
  Number((await pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [userId])).rows[0].n);

/** Records ever written to the topic (high watermarks: aborted or not, nothing is missed). */
async function recordsOnTopic(topic: string): Promise<number> {
  const admin = new Kafka({ brokers: testBrokers(), clientId: 'erasure-test', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

function liveClient(t: Scope, url: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: AUTH });
    const frames: Array<{ type: string; data: Record<string, unknown> }> = [];
    ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
    ws.once('open', () => {
      t.after(() => ws.terminate());
      resolve(frames);
    });
    ws.once('error', reject);
  });
}

test('DELETE erases rows, logs the erasure, and sends markers only after older outbox entries reached Kafka', async (context) => {
  const t = testScope(context);
  const { prefix, topics } = await createTestTopics(t, 3);
  let outboxWaits = 0;
  const d = await startTestDashboard(t, {
    env: { TOPIC_PREFIX: prefix },
    startConsumer: true,
    erasureMarkers: { pollIntervalMs: 50, onOutboxWait: () => (outboxWaits += 1) },
  });
  await d.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = d.app.server.address() as AddressInfo;
  const frames = await liveClient(t, `ws://127.0.0.1:${port}/api/v1/live?siteId=shop`);

  const gone = [windowResult({ siteId: 'shop', userId: 'gone', windowStart: iso(BASE) }), windowResult({ siteId: 'shop', userId: 'gone', windowStart: iso(BASE + 5000) })];
  await seedWindows(d.pool, [...gone, windowResult({ siteId: 'shop', userId: 'keep', windowStart: iso(BASE) }), windowResult({ siteId: 'blog', userId: 'gone', windowStart: iso(BASE) })]);
  await seedVisit(d.pool, 'shop', 'gone', BASE + 1000);
  await seedVisit(d.pool, 'shop', 'keep', BASE + 1000);
  await seedPresence(d.pool, 'shop', 'gone');
  await seedPresence(d.pool, 'shop', 'keep');
  // A processor checkpoint committed before the erasure whose records are not on Kafka yet.
  await insertOutboxEntry(d.pool, 5);

  const response = await d.app.inject({ method: 'DELETE', url: '/api/v1/users/gone?siteId=shop', headers: AUTH });
  assert.equal(response.statusCode, 200, response.body);
  assert.deepEqual(response.json(), { deleted: 3 }, 'two windows and one visit');
  const rowsLeft = async (table: string) =>
    Number((await d.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE site_id = 'shop' AND user_id = 'gone'`)).rows[0].n);
  assert.equal(await rowsLeft('user_metrics'), 0);
  assert.equal(await rowsLeft('user_sessions'), 0);
  assert.equal(await rowsLeft('visitor_presence'), 0);
  assert.equal(await count(d.pool, 'user_metrics', 'keep'), 1, 'another user keeps their window');
  assert.equal(await count(d.pool, 'user_sessions', 'keep'), 1);
  assert.equal(await count(d.pool, 'visitor_presence', 'keep'), 1);
  assert.equal(await count(d.pool, 'user_metrics', 'gone'), 1, 'the user keeps their window on the site not named');
  const logged = await d.pool.query(`SELECT site_id, user_id, window_starts, session_starts, markers_sent FROM user_erasures`);
  assert.equal(logged.rows.length, 1);
  assert.equal(logged.rows[0].site_id, 'shop');
  assert.deepEqual((logged.rows[0].window_starts as Date[]).map((s) => s.toISOString()).sort(), [iso(BASE), iso(BASE + 5000)]);
  assert.deepEqual((logged.rows[0].session_starts as Date[]).map((s) => s.toISOString()), [iso(BASE + 1000)]);

  // A checkpoint after the erasure: its entries are no reason to hold the markers back.
  await insertOutboxEntry(d.pool, 9);
  // The markers are held back while the older entry is undelivered: the sender is seen waiting,
  // and nothing at all has been written to either topic.
  await waitFor('the marker sender to wait for the outbox', async () => outboxWaits >= 3, { timeoutMs: 30_000, intervalMs: 20 });
  assert.equal(await recordsOnTopic(topics.metrics), 0, 'no marker on user-metrics while the older outbox entry is undelivered');
  assert.equal(await recordsOnTopic(topics.sessions), 0, 'no marker on user-sessions while the older outbox entry is undelivered');
  assert.equal((await d.pool.query('SELECT markers_sent FROM user_erasures')).rows[0].markers_sent, false);

  // The processor delivers the entry and trims it: the markers follow.
  await d.pool.query(`DELETE FROM processor_outbox WHERE seq = 5`);
  const metrics = await collectTopic(t, topics.metrics);
  const sessions = await collectTopic(t, topics.sessions);
  await waitFor('markers on both topics', async () => metrics.messages.length >= 2 && sessions.messages.length >= 1, { timeoutMs: 30_000, intervalMs: 100 });
  await waitFor('markers_sent', async () => (await d.pool.query('SELECT markers_sent FROM user_erasures')).rows[0].markers_sent === true, {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  assert.deepEqual(
    metrics.messages.map((m) => ({ key: m.key, value: JSON.parse(m.value!) })).sort((a, b) => a.value.windowStart.localeCompare(b.value.windowStart)),
    [
      { key: 'gone', value: { deleted: true, siteId: 'shop', userId: 'gone', windowStart: iso(BASE) } },
      { key: 'gone', value: { deleted: true, siteId: 'shop', userId: 'gone', windowStart: iso(BASE + 5000) } },
    ],
  );
  assert.deepEqual(
    sessions.messages.map((m) => ({ key: m.key, value: JSON.parse(m.value!) })),
    [{ key: 'gone', value: { deleted: true, siteId: 'shop', userId: 'gone', sessionStart: iso(BASE + 1000) } }],
  );
  assert.equal((await d.pool.query('SELECT count(*)::int AS n FROM processor_outbox WHERE seq = 9')).rows[0].n, 1, 'the later entry is still undelivered');

  // The live feed passes the window deletions on to clients of that site.
  await waitFor('deleted frames on the live feed', async () => frames.filter((f) => f.type === 'deleted').length >= 2, { timeoutMs: 30_000, intervalMs: 50 });
  assert.deepEqual(
    frames
      .filter((f) => f.type === 'deleted')
      .map((f) => f.data)
      .sort((a, b) => String(a.windowStart).localeCompare(String(b.windowStart))),
    [
      { siteId: 'shop', userId: 'gone', windowStart: iso(BASE) },
      { siteId: 'shop', userId: 'gone', windowStart: iso(BASE + 5000) },
    ],
  );
});

test('markers left pending by an earlier run are sent when the dashboard starts', async (context) => {
  const t = testScope(context);
  const { prefix, topics } = await createTestTopics(t, 3);
  const databaseUrl = await createTestDatabase(t);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  t.after(() => db.end());
  await db.query(
    `INSERT INTO user_erasures (site_id, user_id, erased_at, window_starts, session_starts, markers_sent)
     VALUES ('shop', 'left', now(), $1, $2, false), ('shop', 'done', now(), $1, '{}', true)`,
    [[new Date(BASE)], [new Date(BASE - 60_000)]],
  );
  const metrics = await collectTopic(t, topics.metrics);
  const sessions = await collectTopic(t, topics.sessions);
  await startTestDashboard(t, { databaseUrl, env: { TOPIC_PREFIX: prefix }, erasureMarkers: {} });

  await waitFor('the pending erasure to be marked sent', async () => (await db.query(`SELECT markers_sent FROM user_erasures WHERE user_id = 'left'`)).rows[0].markers_sent === true, {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  await waitFor('markers on both topics', async () => metrics.messages.length >= 1 && sessions.messages.length >= 1, { timeoutMs: 30_000, intervalMs: 100 });
  assert.deepEqual(
    metrics.messages.map((m) => JSON.parse(m.value!)),
    [{ deleted: true, siteId: 'shop', userId: 'left', windowStart: iso(BASE) }],
    'only the pending erasure is sent',
  );
  assert.deepEqual(
    sessions.messages.map((m) => JSON.parse(m.value!)),
    [{ deleted: true, siteId: 'shop', userId: 'left', sessionStart: iso(BASE - 60_000) }],
  );
});

test('an outbox that does not drain in time, or a failed send, leaves the erasure pending until the resend loop sends it', async (context) => {
  const t = testScope(context);
  const databaseUrl = await createTestDatabase(t);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', () => {});
  t.after(() => pool.end());
  await seedWindows(pool, [windowResult({ siteId: 'shop', userId: 'gone', windowStart: iso(BASE) })]);
  await insertOutboxEntry(pool, 1);

  const sent: Array<{ erasures: ErasureRecord[]; markersSentBefore: boolean }> = [];
  let attempts = 0;
  const sink: MarkerSink = {
    async send(erasures) {
      attempts += 1;
      const before = (await pool.query('SELECT markers_sent FROM user_erasures')).rows[0].markers_sent as boolean;
      if (attempts === 1) throw new Error('broker unreachable');
      sent.push({ erasures: [...erasures], markersSentBefore: before });
    },
    async close() {},
  };
  const logs: string[] = [];
  const erasure = new UserErasure(pool, { sink, log: (m) => logs.push(m), drainTimeoutMs: 200, pollIntervalMs: 20, resendIntervalMs: 100 });
  t.after(() => erasure.stop());

  assert.equal(await erasure.erase('gone', 'shop'), 1);
  await waitFor('the wait for the outbox to give up', async () => logs.some((m) => /did not reach Kafka/.test(m)), { timeoutMs: 30_000, intervalMs: 20 });
  assert.equal(attempts, 0, 'nothing is sent while an older outbox entry is undelivered');
  assert.equal((await pool.query('SELECT markers_sent FROM user_erasures')).rows[0].markers_sent, false);

  erasure.start();
  await pool.query('DELETE FROM processor_outbox');
  await waitFor('the resend loop to send the markers', async () => sent.length === 1, { timeoutMs: 30_000, intervalMs: 20 });
  assert.ok(logs.some((m) => /sending failed \(broker unreachable\)/.test(m)), 'the failed send was logged');
  assert.equal(sent[0]!.markersSentBefore, false, 'the failed send left the erasure pending');
  assert.deepEqual(
    sent[0]!.erasures.map((e) => [e.siteId, e.userId, e.windowStarts.map((s) => s.toISOString())]),
    [['shop', 'gone', [iso(BASE)]]],
  );
  await waitFor('markers_sent', async () => (await pool.query('SELECT markers_sent FROM user_erasures')).rows[0].markers_sent === true, {
    timeoutMs: 30_000,
    intervalMs: 20,
  });
});
