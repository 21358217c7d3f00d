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
