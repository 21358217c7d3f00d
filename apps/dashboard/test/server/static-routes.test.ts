/**
 * The web UI (built or not), the single-page-app fallback, the demo shop with its own CSP, and
 * answers when the database is down. Real files in a temporary folder, real app.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { testScope } from '@clickstream/local-infra/testing';
import { AUTH, startTestDashboard } from './helpers.js';

function tempDir(t: ReturnType<typeof testScope>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-static-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('before the UI is built, / explains how to build it', async (context) => {
  const t = testScope(context);
  const root = tempDir(t);
  const { app } = await startTestDashboard(t, { env: { DASHBOARD_WEB_DIR: join(root, 'missing'), DASHBOARD_DEMO_DIR: join(root, 'demo') } });
  const page = await app.inject({ method: 'GET', url: '/' });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /text\/html/);
  assert.match(page.body, /UI not built/);
  assert.match(page.body, /npm start/);
  assert.match(page.body, /pnpm --filter @clickstream\/dashboard build/);
  const deepLink = await app.inject({ method: 'GET', url: '/users/u1', headers: { accept: 'text/html' } });
  assert.match(deepLink.body, /UI not built/);
  const missingDemo = await app.inject({ method: 'GET', url: '/demo/' });
  assert.equal(missingDemo.statusCode, 404);
});

test('the built UI, its assets, the SPA fallback and the demo shop', async (context) => {
  const t = testScope(context);
  const root = tempDir(t);
  const web = join(root, 'web');
  const demo = join(root, 'demo');
  mkdirSync(join(web, 'assets'), { recursive: true });
  mkdirSync(demo);
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>dashboard ui</title><script type="module" src="/assets/app-1234.js"></script>');
  writeFileSync(join(web, 'assets', 'app-1234.js'), 'console.log("ui")');
  writeFileSync(join(demo, 'index.html'), '<!doctype html><title>demo shop</title>');
  writeFileSync(join(demo, 'shop.js'), 'void 0');
  const { app } = await startTestDashboard(t, {
    env: { DASHBOARD_WEB_DIR: web, DASHBOARD_DEMO_DIR: demo, COLLECTOR_PUBLIC_URL: 'http://collector.test:8080/' },
  });

  const index = await app.inject({ method: 'GET', url: '/' });
  assert.equal(index.statusCode, 200);
  assert.match(index.body, /dashboard ui/);
  assert.equal(index.headers['cache-control'], 'no-cache');
  assert.match(index.headers['content-security-policy'] as string, /script-src 'self';/);

  const asset = await app.inject({ method: 'GET', url: '/assets/app-1234.js' });
  assert.equal(asset.statusCode, 200);
  assert.equal(asset.body, 'console.log("ui")');
  assert.match(asset.headers['cache-control'] as string, /immutable/);

  // Client-side routes get index.html; files, API paths and non-page requests keep their 404.
  const deepLink = await app.inject({ method: 'GET', url: '/users/u1?site=shop', headers: { accept: 'text/html,*/*' } });
  assert.equal(deepLink.statusCode, 200);
  assert.match(deepLink.body, /dashboard ui/);
  assert.equal((await app.inject({ method: 'GET', url: '/assets/missing-1.js', headers: { accept: 'text/html' } })).statusCode, 404);
  const apiMiss = await app.inject({ method: 'GET', url: '/api/v1/nope', headers: { ...AUTH, accept: 'text/html' } });
  assert.equal(apiMiss.statusCode, 404);
  assert.equal(apiMiss.json().error, 'not_found');
  assert.equal((await app.inject({ method: 'GET', url: '/nope', headers: { accept: 'application/json' } })).statusCode, 404);

  const shop = await app.inject({ method: 'GET', url: '/demo/' });
  assert.equal(shop.statusCode, 200);
  assert.match(shop.body, /demo shop/);
  const demoCsp = shop.headers['content-security-policy'] as string;
  assert.match(demoCsp, /script-src 'self' 'unsafe-inline' http:\/\/collector\.test:8080/);
  assert.match(demoCsp, /connect-src 'self' http:\/\/collector\.test:8080/);
  assert.equal((await app.inject({ method: 'GET', url: '/demo/shop.js' })).statusCode, 200);
  const demoRoute = await app.inject({ method: 'GET', url: '/demo/cart', headers: { accept: 'text/html' } });
  assert.equal(demoRoute.statusCode, 200);
  assert.match(demoRoute.body, /demo shop/);
  assert.equal(demoRoute.headers['content-security-policy'], demoCsp);
  assert.equal((await app.inject({ method: 'GET', url: '/demo/missing.js', headers: { accept: 'text/html' } })).statusCode, 404);
  assert.equal((await app.inject({ method: 'GET', url: '/demo' })).statusCode, 301);

  assert.deepEqual((await app.inject({ method: 'GET', url: '/config.json' })).json(), { collectorUrl: 'http://collector.test:8080' });
});

test('with the database down, queries answer 503 (never 500) and /healthz says so', async (context) => {
  const t = testScope(context);
  const { app } = await startTestDashboard(t, { databaseUrl: 'postgres://postgres@127.0.0.1:1/unreachable' });
  for (const url of ['/api/v1/users/u1/metrics', '/api/v1/metrics/timeline', '/api/v1/metrics/top-users']) {
    const r = await app.inject({ method: 'GET', url, headers: AUTH });
    assert.equal(r.statusCode, 503, r.body);
    assert.equal(r.json().error, 'unavailable');
    assert.ok(r.headers['retry-after']);
  }
  const del = await app.inject({ method: 'DELETE', url: '/api/v1/users/u1', headers: AUTH });
  assert.equal(del.statusCode, 503);
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(health.statusCode, 503);
  assert.equal(health.json().database, false);
});
