/** GET /api/v1/properties: the custom-event property keys of a site in a range, from the day rollup. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testScope } from '@clickstream/local-infra/testing';
import { AUTH, startTestDashboard, type TestDashboard } from './helpers.js';

const DAY = 86_400_000;
const D1 = Date.UTC(2026, 0, 10);
const NOW = D1 + 12 * 3_600_000;

let d: TestDashboard;
const scope = testScope({ after });

before(async () => {
  d = await startTestDashboard(scope, { now: () => NOW });
  const rows: Array<[string, number, string, string]> = [
    ['shop', D1, '', ''],
    ['shop', D1, 'event:page', '/'],
    ['shop', D1, 'event:name', 'signup'],
    ['shop', D1, 'event:props:plan', 'pro'],
    ['shop', D1, 'event:props:plan', 'free'],
    ['shop', D1 - DAY, 'event:props:author', 'ada'],
    ['shop', D1 - 3 * DAY, 'event:props:old', 'x'],
    ['shop', D1, 'event:props:a b;c', '1'],
    ['blog', D1, 'event:props:topic', 'kafka'],
    // Not a property: a dimension that sorts right after the prefix in byte order.
    ['shop', D1, 'event:propsX', 'y'],
  ];
  for (const [site, day, dimension, value] of rows) {
    await d.pool.query(
      `INSERT INTO site_stats_day (site_id, bucket_start, dimension, value, pageviews, events) VALUES ($1, $2, $3, $4, 0, 1)`,
      [site, new Date(day), dimension, value],
    );
  }
});

async function keys(query: string) {
  const response = await d.app.inject({ method: 'GET', url: `/api/v1/properties?${query}`, headers: AUTH });
  return { status: response.statusCode, body: response.json() };
}

test('the keys of the days a range touches, sorted, without other dimensions or sites', async () => {
  assert.deepEqual((await keys('siteId=shop')).body, { properties: ['a b;c', 'plan'] }, 'default: the last 15 minutes, on today');
  assert.deepEqual((await keys(`siteId=shop&from=${NOW - DAY}&to=${NOW}`)).body, { properties: ['a b;c', 'author', 'plan'] });
  assert.deepEqual((await keys(`siteId=shop&from=${D1 - 5 * DAY}&to=${D1}`)).body, { properties: ['author', 'old'] });
  assert.deepEqual((await keys('siteId=blog')).body, { properties: ['topic'] });
  assert.deepEqual((await keys('siteId=nobody')).body, { properties: [] });
});

test('needs a token and a valid site and range', async () => {
  assert.equal((await d.app.inject({ method: 'GET', url: '/api/v1/properties?siteId=shop' })).statusCode, 401);
  assert.equal((await keys('')).status, 400);
  assert.equal((await keys('siteId=bad%20site')).status, 400);
  assert.equal((await keys(`siteId=shop&from=${NOW}&to=${NOW - 1}`)).status, 400);
});
