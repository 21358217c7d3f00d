/**
 * The dashboard's log lines: Fastify's own logger fed by createLogger, one line per request at
 * info. A `?token=` in the URL (the live feed's way to authenticate), the bearer token, cookies
 * and the client address never reach a line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createTestDatabase, testBrokers, testScope, waitFor } from '@clickstream/local-infra/testing';
import { createLogger } from '@clickstream/shared/logger';
import { buildDashboardApp } from '../../src/server/app.js';
import { UserErasure } from '../../src/server/erasure.js';
import { parseDashboardConfig } from '../../src/server/env.js';
import { LiveHub } from '../../src/server/live/live-hub.js';
import { MetricsConsumer } from '../../src/server/live/metrics-consumer.js';
import { createDashboardMetrics } from '../../src/server/metrics.js';

interface LogLine {
  level: string;
  time: string;
  service: string;
  msg: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  err?: { message?: string };
}

const TOKEN = 'logging-test-token-0123456789';

test('request lines carry service, method, masked URL and status; never a token, cookie or client address', async (context) => {
  const t = testScope(context);
  const chunks: string[] = [];
  const logger = createLogger('dashboard', { level: 'info', destination: { write: (chunk: string) => void chunks.push(chunk) } });
  const databaseUrl = await createTestDatabase(t);
  const config = parseDashboardConfig({ KAFKA_BROKERS: testBrokers().join(','), DATABASE_URL: databaseUrl, API_TOKEN: TOKEN, DASHBOARD_PORT: '0' });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // The database is dropped with the test, under any idle connection still open.
  pool.on('error', () => {});
  t.after(() => pool.end());
  const hub = new LiveHub(config.liveMaxBufferedBytes);
  const consumer = new MetricsConsumer({ brokers: config.kafkaBrokers, topic: config.topics.metrics, onResult: () => {} });
  const app = await buildDashboardApp({ config, db: pool, hub, consumer, metrics: createDashboardMetrics(() => hub.size), logger, erasure: new UserErasure(pool) });
  t.after(() => app.close());

  const privateHeaders = { cookie: 'session=cookie-secret-456', 'x-forwarded-for': '203.0.113.9' };
  const answers = [
    await app.inject({ method: 'GET', url: '/api/v1/live?token=abc', headers: privateHeaders }),
    await app.inject({ method: 'GET', url: '/api/v1/metrics/timeline?siteId=shop&token=abc', headers: { ...privateHeaders, authorization: `Bearer ${TOKEN}` } }),
    await app.inject({ method: 'GET', url: `/api/v1/metrics/timeline?token=${TOKEN}`, headers: privateHeaders }),
    await app.inject({ method: 'GET', url: '/no-such-page?token=abc', headers: privateHeaders }),
  ];
  assert.deepEqual(answers.map((a) => a.statusCode), [401, 200, 401, 404]);

  const lines = () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
  const requestLines = await waitFor('a line per request', async () => {
    const found = lines().filter((l) => l.msg === 'request completed');
    return found.length === answers.length && found;
  });
  assert.deepEqual(
    requestLines.map((l) => [l.level, l.service, l.req?.method, l.req?.url, l.res?.statusCode]),
    [
      ['info', 'dashboard', 'GET', '/api/v1/live?token=[redacted]', 401],
      ['info', 'dashboard', 'GET', '/api/v1/metrics/timeline?siteId=shop&token=[redacted]', 200],
      ['info', 'dashboard', 'GET', '/api/v1/metrics/timeline?token=[redacted]', 401],
      ['info', 'dashboard', 'GET', '/no-such-page?token=[redacted]', 404],
    ],
  );
  for (const line of lines()) {
    assert.equal(line.service, 'dashboard');
    assert.ok(typeof line.level === 'string' && typeof line.msg === 'string' && !Number.isNaN(Date.parse(line.time)), JSON.stringify(line));
  }
  const output = chunks.join('');
  for (const secret of ['token=abc', TOKEN, 'cookie-secret-456', '203.0.113.9', '127.0.0.1', 'authorization', 'remoteAddress']) {
    assert.ok(!output.includes(secret), `"${secret}" in the log: ${output}`);
  }
});
