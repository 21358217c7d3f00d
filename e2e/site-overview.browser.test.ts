/**
 * The site owner's overview and the freshness panel in a real browser, on the whole platform
 * (collector, processor and dashboard through their start scripts, real Kafka and PostgreSQL):
 * two people arrive at the demo shop in Chromium (desktop user agent) from two different places -
 * one from a search engine, browsing three pages, one from a newsletter's UTM link, bouncing -
 * and the overview's figures and panels, POST /api/v1/query and a CSV export say exactly that;
 * a clicked value filters everything and the filter travels in the URL; the freshness panel shows
 * the processor's live figures and the result of an exactness audit (`pnpm reconcile`) of the
 * visits' minutes. Then simulated traffic fills every panel within a minute, and the
 * overview and the freshness panel are saved to docs/.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, repoRoot } from '@clickstream/local-infra';
import { DESKTOP_USER_AGENT, testScope, waitFor } from '@clickstream/local-infra/testing';
import { parseReconcileEnv, reconcile } from '@clickstream/reconcile';
import { startDemoTraffic } from '../apps/dashboard/demo/traffic.js';
import { shot, startPlatform, type Platform } from './support/platform.js';

const SITE = 'demo-shop';
const NEWSLETTER = '/demo/?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale';

interface Answer {
  results: Array<{ dimensions: string[]; metrics: number[] }>;
}

/** POST /api/v1/query over the minutes around the test. */
async function query(p: Platform, since: number, body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${p.dashboardUrl}/api/v1/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ site_id: SITE, date_range: [new Date(since - 120_000).toISOString(), new Date(Date.now() + 120_000).toISOString()], ...body }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as Answer;
}

const sorted = <T>(rows: T[]) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** A panel's rows as [value, ...metric cells], as the page shows them. */
async function panelRows(panel: Locator): Promise<string[][]> {
  const rows = panel.locator('tbody tr[data-value]');
  const out: string[][] = [];
  for (let i = 0, n = await rows.count(); i < n; i += 1) {
    const row = rows.nth(i);
    const cells = await row.locator('td.num').allTextContents();
    out.push([(await row.getAttribute('data-value')) ?? '', ...cells]);
  }
  return sorted(out);
}

async function waitForRows(panel: Locator, expected: string[][], what: string): Promise<void> {
  let seen: string[][] = [];
  await waitFor(
    `${what}: ${JSON.stringify(expected)}`,
    async () => {
      seen = await panelRows(panel);
      return JSON.stringify(seen) === JSON.stringify(sorted(expected));
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; the page shows ${JSON.stringify(seen)}`);
  });
}

const kpi = (page: Page, metric: string) => page.getByTestId(`kpi-${metric}`).locator('[data-field="value"]');

async function waitForKpis(page: Page, expected: Record<string, string>): Promise<void> {
  for (const [metric, value] of Object.entries(expected)) {
    await waitFor(`${metric} = ${value}`, async () => (await kpi(page, metric).textContent()) === value, { timeoutMs: 30_000, intervalMs: 250 }).catch(async (error: Error) => {
      throw new Error(`${error.message}; shown: ${await kpi(page, metric).textContent()}`);
    });
  }
}

test('two visitors from two sources: the overview, POST /api/v1/query, a CSV export and the freshness panel show exactly them', async (context) => {
  const t = testScope(context);
  const platform = await startPlatform(t, { RATE_LIMIT_PER_MIN: '100000' });
  const startedAt = Date.now();
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
  t.after(() => browser.close());
  const pageErrors: string[] = [];
  // Each visitor has a browser profile of their own (their own anonymous id) and a desktop user
  // agent: HeadlessChrome is a bot to the collector, and bots count in no metric.
  const visitor = async () => {
    const ctx = await browser.newContext({ userAgent: DESKTOP_USER_AGENT, viewport: { width: 1100, height: 800 } });
    t.after(() => ctx.close());
    const page = await ctx.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  };

  // Visitor 1 finds the shop on a search engine and browses three pages.
  const searcher = await visitor();
  await searcher.goto(`${platform.dashboardUrl}/demo/`, { referer: 'https://www.google.com/search?q=enamel+mug' });
  await searcher.locator('html[data-snippet="loaded"]').waitFor({ state: 'attached', timeout: 15_000 });
  await searcher.getByRole('link', { name: 'Products', exact: true }).click();
  await searcher.getByRole('heading', { name: 'Products' }).waitFor();
  await searcher.getByRole('link', { name: 'Enamel mug' }).click();
  await searcher.getByRole('heading', { name: 'Enamel mug' }).waitFor();

  // Visitor 2 follows the newsletter's link and leaves without a click: a bounce.
  const reader = await visitor();
  await reader.goto(`${platform.dashboardUrl}${NEWSLETTER}`);
  await reader.locator('html[data-snippet="loaded"]').waitFor({ state: 'attached', timeout: 15_000 });

  // The stats API: exactly two visitors, two visits, four page views, one bounce of two.
  const totals = { metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate', 'views_per_visit'] };
  await waitFor('both visits in the stats API', async () => JSON.stringify((await query(platform, startedAt, totals)).results) === JSON.stringify([{ dimensions: [], metrics: [2, 2, 4, 50, 2] }]), {
    timeoutMs: 60_000,
    intervalMs: 500,
  }).catch(async (error: Error) => {
    throw new Error(`${error.message}; the API says ${JSON.stringify((await query(platform, startedAt, totals)).results)}`);
  });
  const bySource = await query(platform, startedAt, { metrics: ['visitors', 'visits', 'bounce_rate'], dimensions: ['visit:source'] });
  assert.deepEqual(sorted(bySource.results), [
    { dimensions: ['google.com'], metrics: [1, 1, 0] },
    { dimensions: ['newsletter'], metrics: [1, 1, 100] },
  ]);
  const byCampaign = await query(platform, startedAt, { metrics: ['visitors'], dimensions: ['visit:utm_campaign', 'visit:utm_medium'] });
  assert.deepEqual(sorted(byCampaign.results), [
    { dimensions: ['(not set)', '(not set)'], metrics: [1] },
    { dimensions: ['spring_sale', 'email'], metrics: [1] },
  ]);
  const byPage = await query(platform, startedAt, { metrics: ['visitors', 'pageviews'], dimensions: ['event:page'] });
  assert.deepEqual(sorted(byPage.results), [
    { dimensions: ['/demo/'], metrics: [2, 2] },
    { dimensions: ['/demo/products'], metrics: [1, 1] },
    { dimensions: ['/demo/products/mug'], metrics: [1, 1] },
  ]);

  // The overview, opened as `npm start` prints it, on the last 24 hours.
  const dashboard = await (await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true })).newPage();
  dashboard.on('pageerror', (error) => pageErrors.push(error.message));
  await dashboard.goto(`${platform.dashboardUrl}/?token=${platform.token}&site=${SITE}&range=24h`);
  assert.ok(!dashboard.url().includes(platform.token), 'the token left the address bar');
  assert.equal(await dashboard.getByTestId('site-picker').inputValue(), SITE, 'the site list (GET /api/v1/sites) offers the site');
  await waitForKpis(dashboard, { visitors: '2', visits: '2', pageviews: '4', views_per_visit: '2.00', bounce_rate: '50%' });
  await waitFor('visitors now', async () => (await dashboard.getByTestId('kpi-now').textContent()) === '2', { timeoutMs: 15_000 });
  const sources = dashboard.getByTestId('panel-sources');
  await waitForRows(
    sources,
    [
      ['google.com', '1', '1', '0%'],
      ['newsletter', '1', '1', '100%'],
    ],
    'sources',
  );
  const pages = dashboard.getByTestId('panel-pages');
  await waitForRows(
    pages,
    [
      ['/demo/', '2', '2'],
      ['/demo/products', '1', '1'],
      ['/demo/products/mug', '1', '1'],
    ],
    'top pages',
  );
  await sources.getByRole('tab', { name: 'Campaign' }).click();
  await waitForRows(sources, [['spring_sale', '1', '1']], 'UTM campaigns');
  await sources.getByRole('tab', { name: 'Medium' }).click();
  await waitForRows(sources, [['email', '1', '1']], 'UTM mediums');
  await pages.getByRole('tab', { name: 'Exit pages' }).click();
  await waitForRows(
    pages,
    [
      ['/demo/', '1', '1'],
      ['/demo/products/mug', '1', '1'],
    ],
    'exit pages',
  );
  await dashboard.getByTestId('panel-devices').getByRole('tab', { name: 'Device' }).click();
  await waitForRows(dashboard.getByTestId('panel-devices'), [['desktop', '2', '2']], 'devices');
  // Countries come from the client address; a loopback address has none, and the panel says so.
  assert.match((await dashboard.getByTestId('countries-empty').textContent({ timeout: 10_000 })) ?? '', /countries appear for visitors from public addresses/);
  await shot(dashboard, 'overview-1-two-visitors');

  // CSV of a panel: what it shows, every row.
  await sources.getByRole('tab', { name: 'Sources' }).click();
  await waitForRows(
    sources,
    [
      ['google.com', '1', '1', '0%'],
      ['newsletter', '1', '1', '100%'],
    ],
    'sources again',
  );
  const [download] = await Promise.all([dashboard.waitForEvent('download'), sources.getByRole('button', { name: 'Export CSV' }).click()]);
  assert.match(download.suggestedFilename(), /^demo-shop-sources-source-.*\.csv$/);
  const csv = readFileSync(await download.path(), 'utf8').split('\r\n');
  assert.equal(csv[0], 'Source,Unique visitors,Visits,Bounce rate');
  assert.deepEqual(csv.slice(1).filter(Boolean).sort(), ['google.com,1,1,0', 'newsletter,1,1,100']);

  // A click on a value filters the whole dashboard; the filter is a removable chip and part of the URL.
  await sources.getByRole('button', { name: 'google.com' }).click();
  const chip = dashboard.getByTestId('filter-chip');
  await chip.filter({ hasText: 'Source is google.com' }).waitFor();
  assert.match(dashboard.url(), /[?&]f=is%2Cvisit%3Asource%2Cgoogle\.com/);
  await waitForKpis(dashboard, { visitors: '1', visits: '1', pageviews: '3', views_per_visit: '3.00', bounce_rate: '0%' });
  await waitForRows(sources, [['google.com', '1', '1', '0%']], 'sources under the filter');
  // Pages seen by visits from a source are not in the data exactly: the panel says so, entry pages answer.
  await pages.getByRole('tab', { name: 'Top pages' }).click();
  await pages.getByTestId('panel-unavailable').waitFor();
  await pages.getByRole('tab', { name: 'Entry pages' }).click();
  await waitForRows(pages, [['/demo/', '1', '1']], 'entry pages under the filter');
  await shot(dashboard, 'overview-2-filtered');

  // The URL is the view: opened elsewhere, it shows the same filter and figures.
  const shared = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
  await shared.goto(`${platform.dashboardUrl}/?token=${platform.token}`);
  await shared.goto(dashboard.url());
  await shared.getByTestId('filter-chip').filter({ hasText: 'Source is google.com' }).waitFor();
  await waitForKpis(shared, { visitors: '1', pageviews: '3' });
  await shared.close();

  await chip.click();
  await chip.waitFor({ state: 'detached' });
  assert.doesNotMatch(dashboard.url(), /[?&]f=/);
  await waitForKpis(dashboard, { visitors: '2', pageviews: '4', bounce_rate: '50%' });

  // The per-user view is a click away.
  await dashboard.getByRole('button', { name: /per user/ }).click();
  await dashboard.getByTestId('live-activity').waitFor();
  assert.match(dashboard.url(), /view=users/);

  // An exactness audit of those minutes (what `pnpm reconcile` runs), stored for the dashboard.
  const audit = await reconcile({
    ...parseReconcileEnv(platform.env),
    sites: [SITE],
    from: startedAt - (startedAt % 60_000) - 60_000,
    to: Date.now(),
    waitMs: 60_000,
  });
  const audited = audit.summaries[0]!;
  const matching = Object.values(audited.checks).reduce((n, c) => n + c.matching, 0);
  assert.ok(matching > 0, audit.text);

  // Freshness, live: the processor's figures per instance and in total, refreshed every 2 s.
  await dashboard.getByRole('button', { name: 'Pipeline', exact: true }).click();
  const panel = dashboard.getByTestId('freshness-panel');
  const instances = panel.locator('[data-testid="freshness-instances"] tbody tr[data-instance]');
  await instances.first().waitFor({ timeout: 15_000 });
  assert.equal(await instances.count(), 1, 'one processor instance');
  const pipeline = (await (await fetch(`${platform.dashboardUrl}/api/v1/pipeline`, { headers: { authorization: `Bearer ${platform.token}` } })).json()) as {
    instances: Array<{ instanceId: string; partitions: number[] }>;
    total: { eventsInPerSec: number | null; eventToVisibleMs: { p50: number | null } };
  };
  assert.equal(await instances.first().getAttribute('data-instance'), pipeline.instances[0]!.instanceId);
  assert.deepEqual(pipeline.instances[0]!.partitions, [0, 1], 'the only instance owns both partitions');
  assert.ok((pipeline.total.eventsInPerSec ?? 0) > 0 && (pipeline.total.eventToVisibleMs.p50 ?? 0) > 0, JSON.stringify(pipeline.total));
  const total = panel.getByTestId('freshness-total');
  for (const figure of ['p50', 'p99', 'watermarkLag', 'consumerLag', 'checkpointAge', 'eventsIn', 'resultsOut']) {
    const text = (await total.locator(`[data-figure="${figure}"] dd`).textContent()) ?? '';
    assert.match(text, /^\d/, `${figure} shows a figure: "${text}"`);
    assert.match((await total.locator(`[data-figure="${figure}"]`).getAttribute('data-level')) ?? '', /^(ok|amber|red)$/);
  }
  const updated = await panel.getByTestId('freshness-updated').textContent();
  await waitFor('the next poll', async () => (await panel.getByTestId('freshness-updated').textContent()) !== updated, { timeoutMs: 10_000, intervalMs: 200 });
  // The audit's result: matched or not, and its counts over every sink.
  const reconcileBox = panel.getByTestId('reconcile');
  assert.equal(await reconcileBox.getAttribute('data-ok'), String(audit.ok));
  assert.match((await reconcileBox.textContent()) ?? '', audit.ok ? /Everything matched on site demo-shop/ : /Differences found on site demo-shop/);
  assert.match((await reconcileBox.getByTestId('reconcile-totals').textContent()) ?? '', new RegExp(`matching ${matching.toLocaleString('en-US')}(?![\\d,])`));
  assert.ok(audit.ok, audit.text);

  // Simulated shoppers: within a minute every panel has data (countries excepted: loopback).
  const traffic = startDemoTraffic({ collectorUrl: platform.collectorUrl, pageOrigin: platform.dashboardUrl, users: 8, tickMs: 500 });
  t.after(() => traffic.stop());
  const demoStart = Date.now();
  await dashboard.getByRole('button', { name: 'Overview' }).click();
  const filled = async (id: string, tab?: string) => {
    const p = dashboard.getByTestId(`panel-${id}`);
    if (tab) await p.getByRole('tab', { name: tab, exact: true }).click();
    await p.locator('tbody tr[data-value]').first().waitFor({ timeout: Math.max(1000, demoStart + 60_000 - Date.now()) });
  };
  await filled('pages', 'Top pages');
  await filled('sources', 'Sources');
  await filled('sources', 'Campaign');
  await filled('devices', 'Device');
  await filled('events', 'Events');
  await filled('events', 'Properties');
  await filled('devices', 'Browser');
  await filled('sources', 'Sources');
  process.stdout.write(`# every panel had data ${Date.now() - demoStart} ms after the simulated shoppers started\n`);
  const deviceRows = await panelRows(dashboard.getByTestId('panel-devices'));
  assert.ok(deviceRows.length >= 2, `several browsers: ${JSON.stringify(deviceRows)}`);

  // The pictures for the README: the live range after half a minute of shoppers, then the panel.
  await dashboard.getByTestId('panel-events').getByRole('tab', { name: 'Events', exact: true }).click();
  await dashboard.getByRole('radio', { name: 'Live', exact: true }).check();
  assert.match(dashboard.url(), /range=realtime/);
  await waitFor('half a minute of shoppers', async () => Date.now() - demoStart > 30_000 && Number(await kpi(dashboard, 'visitors').textContent()) >= 10, {
    timeoutMs: 60_000,
    intervalMs: 1000,
  });
  await dashboard.mouse.move(0, 0);
  mkdirSync(join(repoRoot, 'docs'), { recursive: true });
  copyFileSync(await shot(dashboard, 'overview-3-demo'), join(repoRoot, 'docs', 'dashboard.png'));
  await dashboard.getByRole('button', { name: 'Pipeline', exact: true }).click();
  await instances.first().waitFor();
  await panel.getByTestId('freshness-updated').filter({ hasText: /updated/ }).waitFor();
  await dashboard.setViewportSize({ width: 1400, height: 520 });
  copyFileSync(await shot(dashboard, 'freshness'), join(repoRoot, 'docs', 'freshness.png'));

  await traffic.stop();
  assert.ok(traffic.stats.sent > 0 && traffic.stats.failed === 0, `demo traffic: ${JSON.stringify(traffic.stats)}`);
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the pages');
});
