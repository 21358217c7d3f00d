import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@clickstream/shared';
import { parseDashboardConfig } from '../../src/server/env.js';

const TOKEN = 'a-token-of-enough-length';

test('in production the server refuses to start without API_TOKEN', () => {
  assert.throws(() => parseDashboardConfig({ NODE_ENV: 'production' }), (e: unknown) => e instanceof ConfigError && e.setting === 'API_TOKEN');
  assert.equal(parseDashboardConfig({ NODE_ENV: 'production', API_TOKEN: TOKEN }).apiToken, TOKEN);
});

test('outside production a missing token is replaced by a random one for this run', () => {
  const a = parseDashboardConfig({});
  const b = parseDashboardConfig({});
  assert.equal(a.apiTokenGenerated, true);
  assert.ok(a.apiToken.length >= 32);
  assert.notEqual(a.apiToken, b.apiToken);
  assert.equal(parseDashboardConfig({ API_TOKEN: TOKEN }).apiTokenGenerated, false);
});

test('bad settings are named', () => {
  const setting = (env: Record<string, string>) => {
    try {
      parseDashboardConfig({ API_TOKEN: TOKEN, ...env });
    } catch (error) {
      return error instanceof ConfigError ? error.setting : 'not a ConfigError';
    }
    return 'accepted';
  };
  assert.equal(setting({ API_TOKEN: 'short' }), 'API_TOKEN');
  assert.equal(setting({ DASHBOARD_PORT: 'eighty' }), 'DASHBOARD_PORT');
  assert.equal(setting({ DASHBOARD_ALLOWED_ORIGINS: 'not a url' }), 'DASHBOARD_ALLOWED_ORIGINS');
  assert.equal(setting({ DASHBOARD_ALLOWED_ORIGINS: 'ftp://x.example' }), 'DASHBOARD_ALLOWED_ORIGINS');
  assert.equal(setting({ COLLECTOR_PUBLIC_URL: 'collector' }), 'COLLECTOR_PUBLIC_URL');
  assert.equal(setting({ LIVE_MAX_BUFFERED_BYTES: '10' }), 'LIVE_MAX_BUFFERED_BYTES');
  assert.equal(setting({ KAFKA_BROKERS: 'nohostport' }), 'KAFKA_BROKERS');
  assert.equal(setting({ API_TOKEN: `${TOKEN} with spaces` }), 'API_TOKEN');
  assert.equal(setting({ API_TOKEN: 'x'.repeat(1025) }), 'API_TOKEN');
});

test('API_READ_TOKENS: comma-separated read-only tokens, each held to the rules of API_TOKEN', () => {
  const read = ['read-token-one-0123456', 'read-token-two-0123456'];
  assert.deepEqual(parseDashboardConfig({ API_TOKEN: TOKEN }).apiReadTokens, []);
  const config = parseDashboardConfig({ API_TOKEN: TOKEN, API_READ_TOKENS: ` ${read[0]} , ${read[1]},` });
  assert.deepEqual(config.apiReadTokens, read);
  assert.ok(Object.isFrozen(config.apiReadTokens));
  const refused = (value: string) => {
    try {
      parseDashboardConfig({ API_TOKEN: TOKEN, API_READ_TOKENS: value });
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.setting, 'API_READ_TOKENS');
      // The message names the setting and the entry, never the value.
      for (const part of value.split(',')) if (part.trim().length > 3) assert.ok(!error.message.includes(part.trim()), error.message);
      return error.message;
    }
    return 'accepted';
  };
  assert.match(refused(`${read[0]},short`), /entry 2 .*16 characters/);
  assert.match(refused(`${read[0]},${TOKEN}`), /entry 2 equals API_TOKEN/);
  assert.match(refused(`${'y'.repeat(1025)}`), /entry 1 .*1024/);
  assert.match(refused(`read token with spaces 0123`), /white space/);
  assert.match(refused(','), /empty/);
});

test('defaults and the origin allow-list', () => {
  const config = parseDashboardConfig({ API_TOKEN: TOKEN, DASHBOARD_ALLOWED_ORIGINS: 'https://ops.example/, http://localhost:5173' });
  assert.equal(config.port, 3000);
  assert.deepEqual(config.allowedOrigins, ['https://ops.example', 'http://localhost:5173']);
  assert.equal(config.collectorPublicUrl, 'http://localhost:8080');
  assert.equal(config.topics.metrics, 'user-metrics');
  assert.match(config.webDir, /apps\/dashboard\/dist\/web$/);
  assert.match(config.demoDir, /apps\/dashboard\/demo$/);
  assert.ok(Object.isFrozen(config));
});
