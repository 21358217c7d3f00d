/**
 * The collector's log lines: Fastify's own logger fed by createLogger. A request carrying a
 * bearer token, a cookie, X-Forwarded-For and a body with a unique marker leaves a request line
 * with the service name, and none of those strings, in the captured output.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { testScope, waitFor } from '@clickstream/local-infra/testing';
import { createLogger, type LogLevel } from '@clickstream/shared/logger';
import { buildCollectorApp } from '../src/app.js';
import { parseCollectorConfig } from '../src/env.js';
import { pageView, startTestCollector } from './helpers.js';

interface LogLine {
  level: string;
  time: string;
  service: string;
  msg: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  err?: { message?: string };
}

function capture(level: LogLevel) {
  const chunks: string[] = [];
  const logger = createLogger('collector', { level, destination: { write: (chunk: string) => void chunks.push(chunk) } });
  const text = () => chunks.join('');
  const lines = () => text().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
  return { logger, text, lines };
}

const SECRETS = {
  token: 'secret-token-123',
  cookie: 'cookie-secret-456',
  forwardedFor: '203.0.113.9',
  queryToken: 'abc-query-token-789',
};

describe('collector logs', () => {
  test('request lines name the service, method, URL and status; no token, cookie, address or body', async (context) => {
    const t = testScope(context);
    const marker = `body-marker-${randomBytes(8).toString('hex')}`;
    const log = capture('debug');
    const { app } = await startTestCollector(t, { TRUST_PROXY: 'true' }, undefined, { logger: log.logger });
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${SECRETS.token}`,
      cookie: `sid=${SECRETS.cookie}`,
      'x-forwarded-for': SECRETS.forwardedFor,
    };
    const answers = [
      await app.inject({ method: 'POST', url: `/v1/events?token=${SECRETS.queryToken}`, headers, payload: pageView({ title: marker }) }),
      await app.inject({ method: 'POST', url: '/v1/events', headers, payload: `{"id":"${marker}", broken` }),
      await app.inject({ method: 'POST', url: '/v1/events', headers, payload: { ...pageView(), url: `ftp://${marker}` } }),
      await app.inject({ method: 'GET', url: `/nope?token=${SECRETS.queryToken}`, headers }),
    ];
    assert.deepEqual(answers.map((a) => a.statusCode), [202, 400, 400, 404]);

    const requestLines = await waitFor('a line per request', async () => {
      const found = log.lines().filter((l) => l.msg === 'request completed');
      return found.length === answers.length && found;
    });
    assert.deepEqual(
      requestLines.map((l) => [l.level, l.service, l.req?.method, l.req?.url, l.res?.statusCode]),
      [
        ['debug', 'collector', 'POST', '/v1/events?token=[redacted]', 202],
        ['debug', 'collector', 'POST', '/v1/events', 400],
        ['debug', 'collector', 'POST', '/v1/events', 400],
        ['debug', 'collector', 'GET', '/nope?token=[redacted]', 404],
      ],
    );
    for (const line of log.lines()) {
      assert.equal(line.service, 'collector');
      assert.equal(typeof line.level, 'string');
      assert.equal(typeof line.msg, 'string');
      assert.ok(!Number.isNaN(Date.parse(line.time)));
    }
    const output = log.text();
    for (const secret of [...Object.values(SECRETS), marker, '127.0.0.1', 'remoteAddress', 'authorization', 'cookie']) {
      assert.ok(!output.includes(secret), `"${secret}" in the log: ${output}`);
    }
  });

  test('at the default level event posts write no request line; an internal error is logged with the request', async (context) => {
    const t = testScope(context);
    const log = capture('info');
    const config = parseCollectorConfig({ COLLECTOR_PORT: '0', TRUST_PROXY: 'true' });
    const failing = { isConnected: true, send: async () => Promise.reject(new Error('producer exploded')) };
    const app = buildCollectorApp({ config, producer: failing, logger: log.logger });
    t.after(() => app.close());
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.token}`, 'x-forwarded-for': SECRETS.forwardedFor };
    const answer = await app.inject({ method: 'POST', url: `/v1/events?token=${SECRETS.queryToken}`, headers, payload: pageView() });
    assert.equal(answer.statusCode, 500);
    const [line, ...rest] = await waitFor('the error line', async () => log.lines().length > 0 && log.lines());
    assert.ok(line);
    assert.equal(line.level, 'error');
    assert.equal(line.service, 'collector');
    assert.equal(line.msg, 'internal error');
    assert.equal(line.err?.message, 'producer exploded');
    assert.deepEqual(line.req, { method: 'POST', url: '/v1/events?token=[redacted]' });
    assert.deepEqual(rest.filter((l) => l.msg === 'request completed'), [], 'no request line at info');
    for (const secret of Object.values(SECRETS)) assert.ok(!log.text().includes(secret), secret);
  });
});
