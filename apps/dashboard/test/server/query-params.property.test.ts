/**
 * Property: whatever the query parameters and user id, the API answers 200 or a 4xx with
 * {error, message} — never a 5xx — and the stored data is untouched by reads.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { testScope } from '@clickstream/local-infra/testing';
import { AUTH, seedWindows, startTestDashboard, windowResult, type TestDashboard } from './helpers.js';

const NOW = Date.UTC(2024, 0, 1, 12, 0, 0);
let d: TestDashboard;
const scope = testScope({ after });

before(async () => {
  d = await startTestDashboard(scope, { now: () => NOW });
  await seedWindows(d.pool, [
    windowResult({ userId: 'u1', windowStart: new Date(NOW - 60_000).toISOString() }),
    windowResult({ userId: 'u1', siteId: 'shop', windowStart: new Date(NOW - 5_000).toISOString() }),
  ]);
});

const sqlish = fc.constantFrom("' OR '1'='1", "1; DROP TABLE user_metrics; --", '"; SELECT pg_sleep(10); --', '\\', '%', '%00', '\u0000', '$1', '::text', 'NULL');
const time = fc.oneof(
  fc.integer({ min: -1e16, max: 1e16 }).map(String),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
  fc.constantFrom('now', '', ' ', '1e3', 'NaN', 'Infinity', '2024-02-30', '2024-01-01T24:00:00Z', '0x1F', '-0'),
  sqlish,
  fc.string({ maxLength: 80 }),
);
const anyText = fc.oneof(sqlish, fc.string({ maxLength: 200, unit: 'binary' }), fc.constantFrom('default', 'shop', 'u1', 'a'.repeat(65)));
const value = fc.oneof(time, anyText, fc.integer({ min: -5000, max: 5000 }).map(String), fc.constantFrom('events', 'clicks', 'engagedMs'));
const params = fc.dictionary(fc.constantFrom('siteId', 'from', 'to', 'limit', 'by', 'since', 'token', 'siteId[]', 'x'), value, { maxKeys: 6 });
// Repeated keys (?limit=1&limit=2) arrive as arrays.
const query = fc.tuple(params, fc.option(fc.tuple(fc.constantFrom('siteId', 'from', 'limit', 'by'), value), { nil: undefined })).map(([p, extra]) => {
  const parts = Object.entries(p).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  if (extra) parts.push(`${extra[0]}=${encodeURIComponent(extra[1])}`);
  return parts.join('&');
});
const userId = fc.oneof(anyText, fc.string({ minLength: 1, maxLength: 140 }));
const route = fc.oneof(
  fc.constant('/api/v1/metrics/timeline'),
  fc.constant('/api/v1/metrics/top-users'),
  userId.map((u) => `/api/v1/users/${encodeURIComponent(u)}/metrics`),
);

function assertClientAnswer(status: number, body: string, url: string) {
  assert.ok(status === 200 || (status >= 400 && status < 500), `${status} for ${url}: ${body}`);
  if (status !== 200) {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    assert.equal(typeof parsed.error, 'string', body);
    assert.equal(typeof parsed.message, 'string', body);
  }
}

test('GET routes never answer 5xx, whatever the parameters', async () => {
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(route, query, async (path, q) => {
      const url = q ? `${path}?${q}` : path;
      const response = await d.app.inject({ method: 'GET', url, headers: AUTH });
      seen.set(response.statusCode, (seen.get(response.statusCode) ?? 0) + 1);
      assertClientAnswer(response.statusCode, response.body, url);
    }),
    { numRuns: 400 },
  );
  // The generators reach both sides: accepted queries and refused ones.
  assert.ok((seen.get(200) ?? 0) > 20, `answers: ${JSON.stringify([...seen])}`);
  assert.ok((seen.get(400) ?? 0) > 20, `answers: ${JSON.stringify([...seen])}`);
});

test('DELETE never answers 5xx and erases nothing it was not asked to', async () => {
  await fc.assert(
    fc.asyncProperty(userId.filter((u) => u !== 'u1'), query, async (u, q) => {
      const url = `/api/v1/users/${encodeURIComponent(u)}${q ? `?${q}` : ''}`;
      const response = await d.app.inject({ method: 'DELETE', url, headers: AUTH });
      assertClientAnswer(response.statusCode, response.body, url);
      if (response.statusCode === 200) assert.equal(response.json().deleted, 0);
    }),
    { numRuns: 200 },
  );
  assert.equal((await d.pool.query('SELECT count(*)::int AS n FROM user_metrics')).rows[0].n, 2);
});
