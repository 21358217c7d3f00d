/**
 * Who may do what with which token (API_TOKEN admin, API_READ_TOKENS read-only), and where a token
 * must never end up: a Referer (Referrer-Policy on every answer) or a log line.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { testScope, waitFor } from '@clickstream/local-infra/testing';
import { AUTH, READ_AUTH, READ_TOKENS, TOKEN, seedWindows, startTestDashboard, windowResult, type TestDashboard } from './helpers.js';

const BASE = Date.UTC(2024, 0, 1, 12, 0, 0);
const NOW = BASE + 10 * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const ROWS = [
  windowResult({ userId: 'u1', windowStart: iso(BASE), events: 3 }),
  windowResult({ siteId: 'shop', userId: 'u1', windowStart: iso(BASE), events: 7 }),
];

let d: TestDashboard;
const scope = testScope({ after });

before(async () => {
  d = await startTestDashboard(scope, { now: () => NOW });
  await seedWindows(d.pool, ROWS);
});

const rowCount = async () => (await d.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM user_metrics')).rows[0]!.n;

async function call(method: 'GET' | 'DELETE' | 'POST', url: string, headers: Record<string, string>) {
  const r = await d.app.inject({ method, url, headers });
  const json = (r.headers['content-type'] ?? '').toString().includes('json');
  return { status: r.statusCode, body: (json ? r.json() : {}) as { error?: string; message?: string }, headers: r.headers };
}

describe('read-only tokens', () => {
  const reads = [
    '/api/v1/users/u1/metrics',
    '/api/v1/users/u1/metrics?siteId=shop',
    '/api/v1/metrics/timeline',
    '/api/v1/metrics/top-users?by=clicks',
    '/api/v1/sites',
  ];

  test('each read token gets every GET route, with the same answers as the admin token', async () => {
    for (const token of READ_TOKENS) {
      for (const url of reads) {
        const admin = await call('GET', url, AUTH);
        const reader = await call('GET', url, { authorization: `Bearer ${token}` });
        assert.equal(reader.status, 200, `${url}: ${JSON.stringify(reader.body)}`);
        assert.deepEqual(reader.body, admin.body, url);
      }
      // A read token is no way around the other answers either: absent user 404, bad parameter 400.
      assert.equal((await call('GET', '/api/v1/users/nobody/metrics', { authorization: `Bearer ${token}` })).body.error, 'unknown_user');
      assert.equal((await call('GET', '/api/v1/users/nobody/metrics', { authorization: `Bearer ${token}` })).status, 404);
      assert.equal((await call('GET', '/api/v1/metrics/top-users?by=revenue', { authorization: `Bearer ${token}` })).status, 400);
    }
  });

  test('erasing with a read token is 403 forbidden and erases nothing; the admin token still may', async () => {
    for (const token of READ_TOKENS) {
      for (const url of ['/api/v1/users/u1', '/api/v1/users/u1?siteId=shop', '/api/v1/users/nobody']) {
        const r = await call('DELETE', url, { authorization: `Bearer ${token}` });
        assert.equal(r.status, 403, url);
        assert.equal(r.body.error, 'forbidden');
        assert.match(r.body.message ?? '', /API_TOKEN/);
      }
    }
    assert.equal(await rowCount(), ROWS.length, 'a read token erased rows');
    // An unknown route stays a 404 for a read token (no 403 that would reveal anything).
    assert.equal((await call('DELETE', '/api/v1/no-such-route', READ_AUTH)).status, 404);
    assert.equal((await call('POST', '/api/v1/users/u1/metrics', READ_AUTH)).status, 404);
    const erased = await call('DELETE', '/api/v1/users/u1?siteId=shop', AUTH);
    assert.equal(erased.status, 200);
    assert.deepEqual(erased.body, { deleted: 1 });
    assert.equal(await rowCount(), ROWS.length - 1);
    await seedWindows(d.pool, [ROWS[1]!]);
  });

  test('near misses of a read token, and read tokens in a REST URL, are 401', async () => {
    const [first, second] = READ_TOKENS;
    for (const wrong of [`${first}x`, first.slice(0, -1), first.toUpperCase(), `${first},${second}`, `${first}${second}`]) {
      const r = await call('GET', '/api/v1/sites', { authorization: `Bearer ${wrong}` });
      assert.equal(r.status, 401, wrong);
      assert.equal(r.body.error, 'unauthorized');
      assert.equal((await call('DELETE', '/api/v1/users/u1', { authorization: `Bearer ${wrong}` })).status, 401);
    }
    assert.equal((await call('GET', `/api/v1/sites?token=${first}`, {})).status, 401);
    assert.equal(await rowCount(), ROWS.length);
  });

  test('a read token opens the live feed, by URL or header, and receives results', async () => {
    await d.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = d.app.server.address() as AddressInfo;
    const base = `ws://127.0.0.1:${port}/api/v1/live`;
    for (const [url, headers] of [
      [`${base}?token=${READ_TOKENS[1]}`, { origin: `http://127.0.0.1:${port}` }],
      [base, READ_AUTH],
    ] as const) {
      const ws = new WebSocket(url, { headers });
      const frames: unknown[] = [];
      ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      });
      await waitFor('the client registered', async () => d.hub.size === 1);
      const result = windowResult({ userId: 'live-reader', windowStart: iso(BASE) });
      d.hub.broadcast(result);
      await waitFor('the frame', async () => frames.length === 1);
      assert.deepEqual(frames[0], { type: 'window', data: result });
      ws.close();
      await waitFor('the client gone', async () => d.hub.size === 0);
    }
  });
});

describe('tokens never leave in a Referer', () => {
  test('every kind of answer says Referrer-Policy: no-referrer', async () => {
    const answers = [
      await call('GET', `/?token=${TOKEN}`, { accept: 'text/html' }),
      await call('GET', `/users/u1?token=${TOKEN}`, { accept: 'text/html' }),
      await call('GET', '/api/v1/sites', AUTH),
      await call('GET', '/api/v1/sites', {}),
      await call('DELETE', '/api/v1/users/u1', READ_AUTH),
      await call('GET', '/api/v1/no-such-route', AUTH),
      await call('GET', '/healthz', {}),
    ];
    const docs = await d.app.inject({ method: 'GET', url: '/docs/' });
    const demo = await d.app.inject({ method: 'GET', url: '/demo/', headers: { accept: 'text/html' } });
    for (const headers of [...answers.map((a) => a.headers), docs.headers, demo.headers]) {
      assert.equal(headers['referrer-policy'], 'no-referrer');
    }
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 401, 403, 404, 503],
    );
  });
});

describe('tokens never reach a log line', () => {
  test('failing requests that carried tokens in the URL or header log without them', async (context) => {
    const t = testScope(context);
    const lines: string[] = [];
    // A database nobody listens on: every query fails, and the failures are logged.
    const down = await startTestDashboard(t, { databaseUrl: 'postgres://postgres@127.0.0.1:1/nowhere', log: (m) => lines.push(m) });
    const tokens = [TOKEN, ...READ_TOKENS];
    for (const token of tokens) {
      const r = await down.app.inject({ method: 'GET', url: `/api/v1/users/u1/metrics?token=${token}`, headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.statusCode, 503);
      await down.app.inject({ method: 'GET', url: `/?token=${token}`, headers: { accept: 'text/html' } });
    }
    // The live feed's gap fill fails on the same database; the socket is closed with 1011.
    await down.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = down.app.server.address() as AddressInfo;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live?token=${READ_TOKENS[0]}&since=${Date.now() - 1000}`);
    const code = await new Promise<number>((resolve, reject) => {
      ws.once('close', (c) => resolve(c));
      ws.once('error', reject);
    });
    assert.equal(code, 1011);
    assert.ok(lines.some((l) => /database unavailable/.test(l)), `the 503s were logged: ${JSON.stringify(lines)}`);
    assert.ok(lines.some((l) => /gap fill failed/.test(l)), 'the failed gap fill was logged');
    for (const line of lines) {
      for (const token of tokens) assert.ok(!line.includes(token), `a token in a log line: ${line}`);
      assert.ok(!/token=/.test(line), `a token parameter in a log line: ${line}`);
    }
  });
});
