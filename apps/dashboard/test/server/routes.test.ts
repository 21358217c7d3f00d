/**
 * Every Query API route and every error it answers with, through app.inject() against a real,
 * freshly migrated PostgreSQL seeded with known windows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testScope } from '@clickstream/local-infra/testing';
import type { WindowResult } from '@clickstream/shared';
import { AUTH, TOKEN, seedWindows, startTestDashboard, windowResult, type TestDashboard } from './helpers.js';

const BASE = Date.UTC(2024, 0, 1, 12, 0, 0);
const NOW = BASE + 10 * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

const U1 = [
  windowResult({ userId: 'u1', windowStart: iso(BASE), events: 3, clicks: 1, engagedMs: 3000 }),
  windowResult({ userId: 'u1', windowStart: iso(BASE + 5000), events: 2, clicks: 0, engagedMs: 3000, revision: 2 }),
  windowResult({ userId: 'u1', windowStart: iso(BASE + 10_000), events: 1, clicks: 2, engagedMs: 500 }),
];
const U2 = windowResult({ userId: 'u2', windowStart: iso(BASE + 5000), events: 10, pageViews: 4, clicks: 5, engagedMs: 4000 });
const U3_LATER = windowResult({ userId: 'u3', windowStart: iso(BASE + 20 * 60_000), events: 50 });
const SHOP_U1 = windowResult({ siteId: 'shop', userId: 'u1', windowStart: iso(BASE), events: 7 });
const SHOP2_U1 = windowResult({ siteId: 'shop2', userId: 'u1', windowStart: iso(BASE), events: 1 });
const SQLISH_USER = "u1' OR '1'='1";

let d: TestDashboard;
const scope = testScope({ after });

before(async () => {
  d = await startTestDashboard(scope, { now: () => NOW });
  await seedWindows(d.pool, [...U1, U2, U3_LATER, SHOP_U1, SHOP2_U1]);
});

async function get(url: string, headers: Record<string, string> = AUTH) {
  const response = await d.app.inject({ method: 'GET', url, headers });
  return { status: response.statusCode, body: response.json() as Record<string, unknown>, headers: response.headers };
}

function assertError(response: { status: number; body: Record<string, unknown> }, status: number, error: string, messagePart?: RegExp) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.error, error);
  assert.equal(typeof response.body.message, 'string');
  if (messagePart) assert.match(response.body.message as string, messagePart);
}

describe('authentication', () => {
  const urls = ['/api/v1/users/u1/metrics', '/api/v1/metrics/timeline', '/api/v1/metrics/top-users', '/api/v1/no-such-route'];
  test('every /api/v1 route answers 401 without a token, with a wrong one, or with one in the URL', async () => {
    for (const url of urls) {
      assertError(await get(url, {}), 401, 'unauthorized', /Bearer/);
      assertError(await get(url, { authorization: 'Bearer wrong-token-0123456789' }), 401, 'unauthorized');
      assertError(await get(url, { authorization: `Basic ${TOKEN}` }), 401, 'unauthorized');
      assertError(await get(`${url}?token=${TOKEN}`, {}), 401, 'unauthorized');
      assertError(await get(url, { authorization: `Bearer ${TOKEN}x` }), 401, 'unauthorized');
    }
    const del = await d.app.inject({ method: 'DELETE', url: '/api/v1/users/u1' });
    assert.equal(del.statusCode, 401);
    assert.equal(del.headers['www-authenticate'], 'Bearer');
    assert.equal((await get('/api/v1/users/u1/metrics')).status, 200, 'u1 survived the unauthorised DELETE');
  });

  test('percent-encoded paths that reach an /api/v1 route need the token too', async () => {
    for (const url of ['/%61pi/v1/metrics/timeline', '/api/v1/metrics/%74imeline', '/api/%761/users/u1/metrics', '/api/v1/metrics/timeline/']) {
      assertError(await get(url, {}), 401, 'unauthorized');
    }
  });

  test('the scheme name is case-insensitive, and an unknown route with a good token is a 404', async () => {
    assert.equal((await get('/api/v1/metrics/timeline', { authorization: `bearer ${TOKEN}` })).status, 200);
    assertError(await get('/api/v1/no-such-route'), 404, 'not_found');
  });
});

describe('GET /api/v1/users/{userId}/metrics', () => {
  test('defaults: site "default", the last 15 minutes, oldest first, every field', async () => {
    const { status, body } = await get('/api/v1/users/u1/metrics');
    assert.equal(status, 200);
    assert.deepEqual(body, { windows: U1 });
  });

  test('siteId, from/to (ISO-8601 and ms epoch) and limit', async () => {
    assert.deepEqual((await get('/api/v1/users/u1/metrics?siteId=shop')).body, { windows: [SHOP_U1] });
    const range = `from=${iso(BASE + 5000)}&to=${BASE + 15_000}`;
    assert.deepEqual((await get(`/api/v1/users/u1/metrics?${range}`)).body, { windows: [U1[1], U1[2]] });
    // A window overlapping `from` is included: [BASE, BASE+5s) overlaps [BASE+1ms, ...).
    assert.deepEqual((await get(`/api/v1/users/u1/metrics?from=${BASE + 1}&to=${BASE + 5000}`)).body, { windows: [U1[0]] });
    assert.deepEqual((await get('/api/v1/users/u1/metrics?limit=2')).body, { windows: [U1[0], U1[1]] });
    const windows = (await get(`/api/v1/users/u3/metrics?from=${BASE}&to=${BASE + 30 * 60_000}`)).body.windows as WindowResult[];
    assert.deepEqual(windows, [U3_LATER]);
  });

  test('a known user with nothing in the range gets an empty list', async () => {
    assert.deepEqual((await get('/api/v1/users/u3/metrics')).body, { windows: [] });
  });

  test('an unknown user, also one spelled like SQL, is a 404 and touches nothing', async () => {
    assertError(await get('/api/v1/users/nobody/metrics'), 404, 'unknown_user', /nobody/);
    assertError(await get(`/api/v1/users/${encodeURIComponent(SQLISH_USER)}/metrics`), 404, 'unknown_user');
    assertError(await get('/api/v1/users/u2/metrics?siteId=shop'), 404, 'unknown_user');
    assert.equal((await d.pool.query('SELECT count(*)::int AS n FROM user_metrics')).rows[0].n, 7);
  });

  test('bad parameters are 400s naming the problem', async () => {
    const u = '/api/v1/users/u1/metrics';
    assertError(await get(`${u}?from=${BASE + 5000}&to=${BASE}`), 400, 'invalid_range', /before/);
    assertError(await get(`${u}?from=${BASE}&to=${BASE}`), 400, 'invalid_range');
    assertError(await get(`${u}?from=yesterday`), 400, 'invalid_time', /from/);
    assertError(await get(`${u}?to=2024-13-45T00:00:00Z`), 400, 'invalid_time', /to/);
    assertError(await get(`${u}?from=${encodeURIComponent("2024-01-01'; DROP TABLE user_metrics; --")}`), 400, 'invalid_time');
    assertError(await get(`${u}?from=99999999999999999`), 400, 'invalid_time');
    assertError(await get(`${u}?from=${BASE - 40 * 86_400_000}&to=${BASE}`), 400, 'invalid_range', /31 days/);
    assertError(await get(`${u}?limit=1001`), 400, 'invalid_parameter', /limit/);
    assertError(await get(`${u}?limit=0`), 400, 'invalid_parameter', /limit/);
    assertError(await get(`${u}?limit=ten`), 400, 'invalid_parameter', /limit/);
    assertError(await get(`${u}?limit=1.5`), 400, 'invalid_parameter', /limit/);
    assertError(await get(`${u}?siteId=${encodeURIComponent("x' OR 1=1 --")}`), 400, 'invalid_parameter', /siteId/);
    assertError(await get(`${u}?siteId=${'s'.repeat(65)}`), 400, 'invalid_parameter', /siteId/);
    assertError(await get(`/api/v1/users/${'u'.repeat(129)}/metrics`), 400, 'invalid_parameter', /userId/);
    assertError(await get('/api/v1/users/a%00b/metrics'), 400, 'invalid_parameter', /userId/);
    assert.equal((await d.pool.query('SELECT count(*)::int AS n FROM user_metrics')).rows[0].n, 7);
  });

  test('a 128-character user id of multi-byte characters is accepted', async () => {
    assertError(await get(`/api/v1/users/${encodeURIComponent('é'.repeat(128))}/metrics`), 404, 'unknown_user');
  });
});

describe('GET /api/v1/metrics/timeline', () => {
  test('one entry per 5-second window of the last 15 minutes, zeros where nothing happened', async () => {
    const { status, body } = await get('/api/v1/metrics/timeline');
    assert.equal(status, 200);
    const windows = body.windows as Array<Record<string, unknown>>;
    assert.equal(windows.length, (15 * 60_000) / 5000);
    assert.equal(windows[0]!.windowStart, iso(NOW - 15 * 60_000));
    assert.equal(windows.at(-1)!.windowStart, iso(NOW - 5000));
    const at = (ms: number) => windows.find((w) => w.windowStart === iso(ms));
    assert.deepEqual(at(BASE), { windowStart: iso(BASE), activeUsers: 1, events: 3, pageViews: 1, clicks: 1, engagedMs: 3000 });
    assert.deepEqual(at(BASE + 5000), { windowStart: iso(BASE + 5000), activeUsers: 2, events: 12, pageViews: 5, clicks: 5, engagedMs: 7000 });
    assert.deepEqual(at(BASE + 15_000), { windowStart: iso(BASE + 15_000), activeUsers: 0, events: 0, pageViews: 0, clicks: 0, engagedMs: 0 });
    const totalEvents = windows.reduce((sum, w) => sum + (w.events as number), 0);
    assert.equal(totalEvents, 3 + 2 + 1 + 10, 'u3 (later) and other sites are not counted');
  });

  test('siteId and an explicit range; windows overlapping `from` are included', async () => {
    const { body } = await get(`/api/v1/metrics/timeline?siteId=shop&from=${BASE + 2000}&to=${iso(BASE + 10_000)}`);
    assert.deepEqual(body.windows, [
      { windowStart: iso(BASE), activeUsers: 1, events: 7, pageViews: 1, clicks: 0, engagedMs: 0 },
      { windowStart: iso(BASE + 5000), activeUsers: 0, events: 0, pageViews: 0, clicks: 0, engagedMs: 0 },
    ]);
  });

  test('bad parameters are 400s', async () => {
    const u = '/api/v1/metrics/timeline';
    assertError(await get(`${u}?from=${BASE}&to=${BASE - 1}`), 400, 'invalid_range');
    assertError(await get(`${u}?from=${BASE}&to=${BASE + 86_400_001}`), 400, 'invalid_range', /1 day/);
    assertError(await get(`${u}?from=not-a-date`), 400, 'invalid_time');
    assertError(await get(`${u}?siteId=a%20b`), 400, 'invalid_parameter');
    assertError(await get(`${u}?siteId=`), 400, 'invalid_parameter');
  });
});

describe('GET /api/v1/metrics/top-users', () => {
  test('ranked by events (default), clicks or engaged time, with totals and window counts', async () => {
    const u1 = { userId: 'u1', events: 6, clicks: 3, engagedMs: 6500, windows: 3 };
    const u2 = { userId: 'u2', events: 10, clicks: 5, engagedMs: 4000, windows: 1 };
    assert.deepEqual((await get('/api/v1/metrics/top-users')).body, { users: [u2, u1] });
    assert.deepEqual((await get('/api/v1/metrics/top-users?by=clicks')).body, { users: [u2, u1] });
    assert.deepEqual((await get('/api/v1/metrics/top-users?by=engagedMs')).body, { users: [u1, u2] });
    assert.deepEqual((await get('/api/v1/metrics/top-users?by=engagedMs&limit=1')).body, { users: [u1] });
    assert.deepEqual((await get(`/api/v1/metrics/top-users?siteId=shop&from=${BASE}&to=${BASE + 5000}`)).body, {
      users: [{ userId: 'u1', events: 7, clicks: 0, engagedMs: 0, windows: 1 }],
    });
    assert.deepEqual((await get(`/api/v1/metrics/top-users?siteId=nosuchsite`)).body, { users: [] });
  });

  test('bad parameters are 400s', async () => {
    const u = '/api/v1/metrics/top-users';
    assertError(await get(`${u}?by=revenue`), 400, 'invalid_parameter', /by/);
    assertError(await get(`${u}?by=events;DROP%20TABLE%20user_metrics`), 400, 'invalid_parameter');
    assertError(await get(`${u}?limit=5000`), 400, 'invalid_parameter', /limit/);
    assertError(await get(`${u}?limit=-1`), 400, 'invalid_parameter');
    assertError(await get(`${u}?from=${BASE}&to=${BASE}`), 400, 'invalid_range');
    assertError(await get(`${u}?to=tomorrow`), 400, 'invalid_time');
  });
});

describe('GET /api/v1/sites', () => {
  test('every site with stored windows, by id, with the end of its newest window', async () => {
    const { status, body } = await get('/api/v1/sites');
    assert.equal(status, 200);
    assert.deepEqual(body, {
      sites: [
        { siteId: 'default', lastSeen: iso(BASE + 20 * 60_000 + 5000) },
        { siteId: 'shop', lastSeen: iso(BASE + 5000) },
        { siteId: 'shop2', lastSeen: iso(BASE + 5000) },
      ],
    });
  });

  test('a site appears with its first window and goes once its last one is erased', async () => {
    const onlyWindow = windowResult({ siteId: 'a-brief-site', userId: 'visitor', windowStart: iso(BASE + 60_000) });
    await seedWindows(d.pool, [onlyWindow]);
    const listed = (await get('/api/v1/sites')).body.sites as Array<{ siteId: string; lastSeen?: string }>;
    assert.deepEqual(listed.map((s) => s.siteId), ['a-brief-site', 'default', 'shop', 'shop2']);
    assert.equal(listed[0]!.lastSeen, onlyWindow.windowEnd);
    const erased = await d.app.inject({ method: 'DELETE', url: '/api/v1/users/visitor?siteId=a-brief-site', headers: AUTH });
    assert.deepEqual(erased.json(), { deleted: 1 });
    const after = (await get('/api/v1/sites')).body.sites as Array<{ siteId: string }>;
    assert.deepEqual(after.map((s) => s.siteId), ['default', 'shop', 'shop2']);
  });

  test('an empty store lists no sites', async (context) => {
    const empty = await startTestDashboard(testScope(context));
    const r = await empty.app.inject({ method: 'GET', url: '/api/v1/sites', headers: AUTH });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { sites: [] });
  });
});

describe('DELETE /api/v1/users/{userId}', () => {
  const del = async (url: string) => {
    const r = await d.app.inject({ method: 'DELETE', url, headers: AUTH });
    return { status: r.statusCode, body: r.json() as Record<string, unknown> };
  };

  test('erases one site, then every site; idempotent', async () => {
    await seedWindows(d.pool, [
      windowResult({ userId: 'gone', windowStart: iso(BASE) }),
      windowResult({ userId: 'gone', windowStart: iso(BASE + 5000) }),
      windowResult({ siteId: 'shop', userId: 'gone', windowStart: iso(BASE) }),
      windowResult({ siteId: 'shop2', userId: 'gone', windowStart: iso(BASE) }),
    ]);
    assert.deepEqual(await del('/api/v1/users/gone?siteId=shop'), { status: 200, body: { deleted: 1 } });
    assertError(await get('/api/v1/users/gone/metrics?siteId=shop'), 404, 'unknown_user');
    assert.equal(((await get('/api/v1/users/gone/metrics')).body.windows as unknown[]).length, 2);
    assert.deepEqual(await del('/api/v1/users/gone'), { status: 200, body: { deleted: 3 } });
    assertError(await get('/api/v1/users/gone/metrics'), 404, 'unknown_user');
    assertError(await get('/api/v1/users/gone/metrics?siteId=shop2'), 404, 'unknown_user');
    assert.deepEqual(await del('/api/v1/users/gone'), { status: 200, body: { deleted: 0 } });
    assert.deepEqual(await del(`/api/v1/users/${encodeURIComponent(SQLISH_USER)}`), { status: 200, body: { deleted: 0 } });
    assert.equal((await d.pool.query('SELECT count(*)::int AS n FROM user_metrics')).rows[0].n, 7, 'nobody else was touched');
  });

  test('bad parameters are 400s', async () => {
    assertError(await del('/api/v1/users/u1?siteId=%27%3B--'), 400, 'invalid_parameter', /siteId/);
    assertError(await del(`/api/v1/users/${'x'.repeat(129)}`), 400, 'invalid_parameter');
    assert.equal((await d.pool.query('SELECT count(*)::int AS n FROM user_metrics')).rows[0].n, 7);
  });
});

describe('service routes', () => {
  test('/healthz is 503 while the live consumer is not running, naming what is down', async () => {
    const { status, body } = await get('/healthz', {});
    assert.equal(status, 503);
    assert.equal(body.database, true);
    assert.equal(body.kafka, false);
  });

  test('/metrics is Prometheus text with request counts', async () => {
    const r = await d.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /text\/plain/);
    assert.match(r.body, /clickstream_dashboard_http_requests_total\{route="\/api\/v1\/users\/:userId\/metrics",method="GET",status="200"\} \d+/);
    assert.match(r.body, /clickstream_dashboard_live_clients 0/);
  });

  test('/docs serves Swagger UI and the OpenAPI document lists every route', async () => {
    const ui = await d.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(ui.statusCode, 200);
    assert.match(ui.body, /swagger/i);
    const doc = (await d.app.inject({ method: 'GET', url: '/docs/json' })).json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.paths['/api/v1/users/{userId}/metrics']?.get);
    assert.ok(doc.paths['/api/v1/metrics/timeline']?.get);
    assert.ok(doc.paths['/api/v1/metrics/top-users']?.get);
    assert.ok(doc.paths['/api/v1/users/{userId}']?.delete);
    assert.ok(doc.paths['/api/v1/sites']?.get);
    // The documented answers: 404 for an unknown user, 403 for erasing with a read-only token.
    const responses = (path: string, method: string) => Object.keys((doc.paths[path]?.[method] as { responses: object }).responses);
    assert.ok(responses('/api/v1/users/{userId}/metrics', 'get').includes('404'));
    assert.ok(!responses('/api/v1/users/{userId}/metrics', 'get').includes('403'));
    assert.ok(responses('/api/v1/users/{userId}', 'delete').includes('403'));
    const description = (doc as unknown as { info: { description: string } }).info.description;
    assert.match(description, /API_READ_TOKENS/);
    assert.match(description, /403/);
  });

  test('security headers and the UI Content-Security-Policy', async () => {
    const r = await d.app.inject({ method: 'GET', url: '/', headers: { host: 'dash.example:3000' } });
    const csp = r.headers['content-security-policy'] as string;
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self' ws:\/\/dash\.example:3000 wss:\/\/dash\.example:3000/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-eval/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.ok(r.headers['x-frame-options']);
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    const api = await d.app.inject({ method: 'GET', url: '/api/v1/metrics/timeline', headers: AUTH });
    assert.equal(api.headers['x-content-type-options'], 'nosniff');
  });

  test('/config.json tells the UI where the collector is, without a token', async () => {
    const { status, body } = await get('/config.json', {});
    assert.equal(status, 200);
    assert.deepEqual(body, { collectorUrl: 'http://localhost:8080' });
  });
});
