/**
 * The live feed against a real broker and PostgreSQL: a window result committed on user-metrics
 * reaches connected clients, an aborted transaction's never does, a reconnect with `since` is
 * gap-filled from the database, and bad tokens and foreign Origins are refused before the upgrade.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import WebSocket from 'ws';
import type { WindowResult } from '@clickstream/shared';
import { createTestTopics, testBrokers, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { TOKEN, seedWindows, startTestDashboard, windowResult } from './helpers.js';

type Scope = ReturnType<typeof testScope>;

interface Client {
  ws: WebSocket;
  frames: Array<{ type: string; data: WindowResult }>;
  closed: Promise<void>;
}

function connect(t: Scope, url: string, headers: Record<string, string> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const frames: Client['frames'] = [];
    const closed = new Promise<void>((done) => ws.once('close', () => done()));
    ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
    ws.once('open', () => {
      t.after(() => ws.terminate());
      resolve({ ws, frames, closed });
    });
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => reject(Object.assign(new Error(`HTTP ${response.statusCode}: ${body}`), { status: response.statusCode, body })));
    });
    ws.once('error', (error) => reject(error));
  });
}

async function refusedWith(t: Scope, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  try {
    await connect(t, url, headers);
  } catch (error) {
    const { status, body } = error as { status?: number; body?: string };
    if (status !== undefined) return { status, body: body ?? '' };
    throw error;
  }
  throw new Error(`${url} was accepted`);
}

async function transactionalProducer(t: Scope): Promise<Producer> {
  const kafka = new Kafka({ brokers: testBrokers(), clientId: 'live-feed-test', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ transactionalId: uniqueId('live-test-tx-'), idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  t.after(() => producer.disconnect());
  return producer;
}

async function publish(producer: Producer, topic: string, results: WindowResult[], outcome: 'commit' | 'abort'): Promise<void> {
  const transaction = await producer.transaction();
  await transaction.send({ topic, acks: -1, messages: results.map((r) => ({ key: r.userId, value: JSON.stringify(r) })) });
  if (outcome === 'commit') await transaction.commit();
  else await transaction.abort();
}

const userIds = (client: Client) => client.frames.map((f) => `${f.data.userId}@${f.data.windowStart}`);

test('live feed: committed results fan out, aborted ones never arrive, reconnects are gap-filled', async (context) => {
  const t = testScope(context);
  const { prefix, topics } = await createTestTopics(t, 3);
  const d = await startTestDashboard(t, {
    env: { TOPIC_PREFIX: prefix, DASHBOARD_ALLOWED_ORIGINS: 'https://ops.example' },
    startConsumer: true,
  });
  await d.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = d.app.server.address() as AddressInfo;
  const base = `ws://127.0.0.1:${port}/api/v1/live`;

  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200, await health.clone().text());
  assert.deepEqual(await health.json(), { status: 'ok', database: true, kafka: true, liveClients: 0 });

  // A browser page of the dashboard (token in the URL, same Origin) and a script (header, no Origin).
  const page = await connect(t, `${base}?token=${TOKEN}`, { origin: `http://127.0.0.1:${port}` });
  const script = await connect(t, base, { authorization: `Bearer ${TOKEN}` });
  const allowListed = await connect(t, `${base}?token=${TOKEN}&siteId=shop`, { origin: 'https://ops.example' });
  await waitFor('three live clients', async () => d.hub.size === 3);

  const producer = await transactionalProducer(t);
  const now = Date.now();
  const start = (i: number) => new Date(now - (now % 5000) - i * 5000).toISOString();
  const user = uniqueId('live-user-');
  const committed = windowResult({ userId: user, windowStart: start(3), events: 4, clicks: 2 });
  await publish(producer, topics.metrics, [committed], 'commit');
  await waitFor('the committed result on both clients', async () => page.frames.length === 1 && script.frames.length === 1);
  assert.deepEqual(page.frames[0], { type: 'window', data: committed });
  assert.deepEqual(script.frames[0], { type: 'window', data: committed });

  // Same key, so same partition: once the later committed record has arrived, the aborted one
  // before it has certainly been read past.
  const aborted = windowResult({ userId: user, windowStart: start(2), events: 666 });
  const after = windowResult({ userId: user, windowStart: start(1), events: 5 });
  const shop = windowResult({ siteId: 'shop', userId: user, windowStart: start(1), events: 9 });
  await publish(producer, topics.metrics, [aborted], 'abort');
  await publish(producer, topics.metrics, [after, shop], 'commit');
  await waitFor('the next committed results', async () => page.frames.length === 3 && script.frames.length === 3);
  for (const client of [page, script]) {
    assert.deepEqual(client.frames.map((f) => f.data), [committed, after, shop]);
    assert.ok(!client.frames.some((f) => f.data.events === 666), 'an aborted result reached a client');
  }
  await waitFor('the shop-only client', async () => allowListed.frames.length === 1);
  assert.deepEqual(allowListed.frames.map((f) => f.data), [shop]);

  // The page goes away; while it is gone the processor writes windows (rows in PostgreSQL).
  // It reconnects with `since` = when it last heard from the server and gets exactly those.
  page.ws.close();
  await page.closed;
  const since = new Date();
  await seedWindows(d.pool, [windowResult({ userId: 'old', windowStart: start(50) })], new Date(since.getTime() - 60_000));
  const missed = [
    windowResult({ userId: `${user}-a`, windowStart: start(1), events: 2 }),
    windowResult({ userId: `${user}-b`, windowStart: start(1), events: 3, siteId: 'shop' }),
  ];
  await seedWindows(d.pool, missed, new Date(since.getTime() + 1000));
  const back = await connect(t, `${base}?token=${TOKEN}&since=${encodeURIComponent(since.toISOString())}`, { origin: `http://127.0.0.1:${port}` });
  await waitFor('the gap fill', async () => back.frames.length === 2);
  assert.deepEqual(new Set(userIds(back)), new Set(missed.map((m) => `${m.userId}@${m.windowStart}`)));
  // Live frames keep coming after the gap fill.
  const later = windowResult({ userId: user, windowStart: start(0), events: 1 });
  await publish(producer, topics.metrics, [later], 'commit');
  await waitFor('a live frame after the gap fill', async () => back.frames.length === 3);
  assert.deepEqual(back.frames[2], { type: 'window', data: later });
  const siteOnly = await connect(t, `${base}?token=${TOKEN}&siteId=shop&since=${since.getTime()}`);
  await waitFor('the shop gap fill', async () => siteOnly.frames.length === 1);
  assert.equal(siteOnly.frames[0]!.data.userId, `${user}-b`);
  assert.deepEqual(script.frames.at(-1), { type: 'window', data: later });
});

test('live feed refuses bad tokens, foreign Origins and bad parameters before the upgrade', async (context) => {
  const t = testScope(context);
  const d = await startTestDashboard(t, { env: { DASHBOARD_ALLOWED_ORIGINS: 'https://ops.example', LIVE_MAX_CLIENTS: '1' } });
  await d.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = d.app.server.address() as AddressInfo;
  const base = `ws://127.0.0.1:${port}/api/v1/live`;
  const own = { origin: `http://127.0.0.1:${port}` };

  for (const [url, headers] of [
    [base, own],
    [`${base}?token=wrong-token-0123456789`, own],
    [`${base}?token=${TOKEN}x`, own],
    [base, { ...own, authorization: 'Bearer wrong-token-0123456789' }],
    [`${base}?token=`, own],
  ] as const) {
    const refused = await refusedWith(t, url, headers);
    assert.equal(refused.status, 401, url);
    assert.equal(JSON.parse(refused.body).error, 'unauthorized');
  }
  for (const origin of ['https://evil.example', `http://127.0.0.1:${port + 1}`, 'null', 'https://ops.example.evil.example']) {
    const refused = await refusedWith(t, `${base}?token=${TOKEN}`, { origin });
    assert.equal(refused.status, 403, origin);
    assert.equal(JSON.parse(refused.body).error, 'forbidden_origin');
  }
  for (const query of ['since=yesterday', 'since=2024-02-30T00:00:00Z', 'siteId=%27%20OR%201%3D1']) {
    const refused = await refusedWith(t, `${base}?token=${TOKEN}&${query}`, own);
    assert.equal(refused.status, 400, query);
  }
  assert.equal(d.hub.size, 0, 'no refused client was registered');
  // A plain HTTP request is told to upgrade.
  const plain = await fetch(`http://127.0.0.1:${port}/api/v1/live`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(plain.status, 426);
  assert.equal(((await plain.json()) as { error: string }).error, 'upgrade_required');
  // The server is still fine; past LIVE_MAX_CLIENTS it refuses with 503.
  const ok = await connect(t, `${base}?token=${TOKEN}`, own);
  await waitFor('one client', async () => d.hub.size === 1);
  const full = await refusedWith(t, `${base}?token=${TOKEN}`, own);
  assert.equal(full.status, 503);
  assert.equal(JSON.parse(full.body).error, 'too_many_clients');
  ok.ws.close();
  await ok.closed;
  await waitFor('the client removed', async () => d.hub.size === 0);
});
