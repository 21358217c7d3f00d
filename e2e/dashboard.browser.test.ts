/**
 * The whole platform in a real browser: Kafka, PostgreSQL, the collector, processor and
 * dashboard as child processes (as `npm start` runs them), Debian's Chromium on the demo shop
 * clicking and navigating, and a second page on the dashboard whose per-user view must show those
 * clicks for that user soon after the window closes, agreeing with the REST API.
 * User-provided strings carry an HTML injection attempt that must stay text.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@clickstream/local-infra';
import { DESKTOP_USER_AGENT, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { WINDOW_SIZE_MS, type WindowResult } from '@clickstream/shared';
import { startDemoTraffic } from '../apps/dashboard/demo/traffic.js';
import { formatClock } from '../apps/dashboard/web/src/format.js';
import { IDLE_TIMEOUT_MS, OUT_OF_ORDERNESS_MS, shot, startPlatform, type Platform } from './support/platform.js';

const XSS = '<img src=x onerror=alert(1)>';

async function userWindows(p: Platform, userId: string): Promise<WindowResult[]> {
  const query = new URLSearchParams({ siteId: 'demo-shop', from: String(Date.now() - 15 * 60_000), to: String(Date.now() + 60_000) });
  const response = await fetch(`${p.dashboardUrl}/api/v1/users/${encodeURIComponent(userId)}/metrics?${query}`, {
    headers: { authorization: `Bearer ${p.token}` },
  });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { windows: WindowResult[] }).windows;
}

/** What the live activity table shows for one user, read from the page as text. */
async function liveRowsFor(page: Page, userId: string): Promise<Array<{ clicks: number; events: number }>> {
  const rows = page.locator('[data-testid="live-activity"] tbody tr[data-user]');
  const found: Array<{ clicks: number; events: number }> = [];
  for (let i = 0, n = await rows.count(); i < n; i += 1) {
    const row = rows.nth(i);
    if ((await row.getAttribute('data-user')) !== userId) continue;
    const clicks = Number(await row.locator('[data-field="clicks"]').textContent());
    const events = Number(await row.locator('[data-field="events"]').textContent());
    found.push({ clicks, events });
  }
  return found;
}

test('clicks on the demo shop appear for that user on the live dashboard, as text, matching the API', async (context) => {
  const t = testScope(context);
  // The simulated shoppers post once per device per tick: more requests than a person makes.
  const platform = await startPlatform(t, { RATE_LIMIT_PER_MIN: '100000' });
  // Simulated shoppers (what `npm start -- --demo` runs) share the site with the real browser.
  const traffic = startDemoTraffic({ collectorUrl: platform.collectorUrl, pageOrigin: platform.dashboardUrl, users: 6, tickMs: 500 });
  t.after(() => traffic.stop());
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
  t.after(() => browser.close());

  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const watch = (page: Page) => {
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  };
  // A person's browser: HeadlessChrome's own user agent is a bot to the collector, and bots count in no metric.
  const open = async (width: number, height: number) =>
    watch(await (await browser.newContext({ viewport: { width, height }, userAgent: DESKTOP_USER_AGENT })).newPage());

  // The dashboard, opened the way `npm start` prints it: the token leaves the address bar.
  const dashboard = await open(1280, 900);
  const emptySite = uniqueId('empty-');
  await dashboard.goto(`${platform.dashboardUrl}/?token=${platform.token}&site=${emptySite}`);
  await dashboard.getByTestId('connection-status').filter({ hasText: /^Live$/ }).waitFor({ timeout: 20_000 });
  assert.ok(!dashboard.url().includes(platform.token), `token left in the address bar: ${dashboard.url()}`);
  assert.equal(await dashboard.evaluate<string | null>("localStorage.getItem('clickstream.apiToken')"), platform.token);

  // Empty state: the snippet to paste names this collector and site, and offers the demo.
  const snippet = await dashboard.getByTestId('snippet').textContent({ timeout: 15_000 });
  assert.ok(snippet?.includes(`src="${platform.collectorUrl}/snippet.js"`), snippet ?? '');
  assert.ok(snippet?.includes(`data-site="${emptySite}"`), snippet ?? '');
  assert.equal(await dashboard.getByRole('link', { name: 'Open the demo shop' }).getAttribute('href'), '/demo/');

  // Data is arriving elsewhere: the empty state points there, and switching sites shows it.
  const otherSite = dashboard.getByRole('button', { name: 'demo-shop', exact: true });
  await otherSite.waitFor({ timeout: 20_000 });
  await shot(dashboard, '1-empty-state');
  await otherSite.click();
  await dashboard.getByTestId('snippet').waitFor({ state: 'detached', timeout: 20_000 });
  assert.equal(await dashboard.getByLabel('Site').inputValue(), 'demo-shop');
  // The per-user view: windows as they commit.
  await dashboard.getByRole('button', { name: 'Users (live)' }).click();
  assert.match(dashboard.url(), /view=users/);

  // A shopper whose user id is an HTML injection attempt.
  const userId = `${XSS}-${uniqueId('e2e')}`;
  const shop = await open(1100, 800);
  await shop.goto(`${platform.dashboardUrl}/demo/?user=${encodeURIComponent(userId)}`);
  await shop.locator('html[data-snippet="loaded"]').waitFor({ state: 'attached', timeout: 15_000 });

  let clicks = 0;
  const click = async (locator: ReturnType<Page['locator']>) => {
    await locator.click();
    clicks += 1;
  };
  await click(shop.getByRole('link', { name: 'Products', exact: true }));
  await shop.getByRole('heading', { name: 'Products' }).waitFor();
  await click(shop.getByRole('button', { name: 'Add to cart' }).first());
  await click(shop.getByRole('button', { name: 'Add to cart' }).nth(1));
  // The product whose name (and so page title) is an injection attempt.
  await click(shop.getByRole('link', { name: XSS }));
  await shop.getByRole('heading', { name: XSS }).waitFor();
  assert.equal(await shop.title(), `${XSS} · Demo shop`);
  await click(shop.getByRole('button', { name: 'Add to cart' }));
  await click(shop.getByRole('link', { name: /Cart/ }));
  const lastClickAt = Date.now();
  await shop.getByRole('heading', { name: 'Cart' }).waitFor();
  await shot(shop, '2-demo-shop-cart');
  assert.equal(new URL(shop.url()).pathname, '/demo/cart', 'navigation was client-side (pushState)');
  assert.equal(await shop.locator('img').count(), 0, 'the product name was rendered as text');

  // The last click's window closes when the watermark passes its end: out-of-orderness later,
  // or the idle timeout after input stops. The live view must show every click within 10 s of
  // that; the API (PostgreSQL) is the reference it must agree with.
  const lastClickWindowEnd = lastClickAt - (lastClickAt % WINDOW_SIZE_MS) + WINDOW_SIZE_MS;
  const closesAt = lastClickWindowEnd + Math.max(OUT_OF_ORDERNESS_MS, IDLE_TIMEOUT_MS);
  const [apiWindows, shownAt] = await Promise.all([
    waitFor(
      'all clicks in the API',
      async () => {
        const windows = await userWindows(platform, userId);
        return windows.reduce((s, w) => s + w.clicks, 0) >= clicks && windows;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    ),
    waitFor(
      'the user’s clicks in the live view',
      async () => (await liveRowsFor(dashboard, userId)).reduce((s, r) => s + r.clicks, 0) === clicks && Date.now(),
      { timeoutMs: Math.max(1000, closesAt + 10_000 - Date.now()), intervalMs: 200 },
    ),
  ]);
  const apiClicks = apiWindows.reduce((s, w) => s + w.clicks, 0);
  assert.equal(apiClicks, clicks, 'every click counted once');
  assert.ok(apiWindows.every((w) => w.siteId === 'demo-shop' && w.userId === userId));
  const shown = await liveRowsFor(dashboard, userId);
  process.stdout.write(`# live view showed the user's ${apiClicks} clicks ${shownAt - lastClickWindowEnd} ms after the end of their last window\n`);
  assert.ok(shown.length >= 1);
  const liveEvents = shown.reduce((s, r) => s + r.events, 0);
  const apiEvents = (await userWindows(platform, userId)).reduce((s, w) => s + w.events, 0);
  assert.ok(liveEvents <= apiEvents && liveEvents >= apiClicks, `live ${liveEvents} events, API ${apiEvents}`);

  // A late click for a window already shown: the processor emits a new revision, and the
  // live view replaces the row and marks it corrected.
  const lastWindow = apiWindows.filter((w) => w.clicks > 0).at(-1)!;
  const lateTs = Date.parse(lastWindow.windowStart) + 1000;
  const late = await fetch(`${platform.collectorUrl}/v1/events`, {
    method: 'POST',
    // The same person's browser: Node's fetch would be a bot, left out of every metric.
    headers: { 'content-type': 'application/json', 'user-agent': DESKTOP_USER_AGENT },
    body: JSON.stringify({
      sentAt: Date.now(),
      events: [{ id: uniqueId('late-'), type: 'click', siteId: 'demo-shop', userId, sessionId: 'late-session', ts: lateTs, url: `${platform.dashboardUrl}/demo/cart`, target: { tag: 'button', text: 'Check out' } }],
    }),
  });
  assert.equal(late.status, 202, await late.text());
  await waitFor(
    'the corrected window in the live view',
    async () => (await liveRowsFor(dashboard, userId)).reduce((s, r) => s + r.clicks, 0) === apiClicks + 1,
    { timeoutMs: 15_000, intervalMs: 200 },
  );
  // The simulated shoppers' windows are corrected too (engaged time lands in the windows it
  // covers), and so may this user's by the page's engagement heartbeats: look at this window.
  const correctedWindows = await userWindows(platform, userId);
  assert.equal(correctedWindows.reduce((s, w) => s + w.clicks, 0), apiClicks + 1, 'the API has the correction too');
  const revision = correctedWindows.find((w) => w.windowStart === lastWindow.windowStart)?.revision ?? 0;
  assert.ok(revision >= 1, `revision ${revision}`);
  const correctedRows = dashboard.locator('[data-testid="live-activity"] tr.corrected', { hasText: formatClock(Date.parse(lastWindow.windowStart)) });
  let mine = 0;
  for (let i = 0, n = await correctedRows.count(); i < n; i += 1) {
    const row = correctedRows.nth(i);
    if ((await row.getAttribute('data-user')) === userId) {
      mine += 1;
      assert.match((await row.textContent()) ?? '', /rev [1-9]/);
    }
  }
  assert.equal(mine, 1, "the user's corrected window, marked once");
  const totalClicks = apiClicks + 1;

  // Charts and totals caught up with the same data.
  await waitFor('the clicks total', async () => Number(await dashboard.getByTestId('kpi-clicks').textContent()) >= totalClicks, { timeoutMs: 10_000 });
  await shot(dashboard, '3-dashboard-live');

  // Drill down from the top users table; the id shows as text, not as an element.
  const topUsers = dashboard.getByRole('region', { name: 'Top users' });
  await topUsers.getByRole('button', { name: userId }).click();
  const detail = dashboard.getByTestId('user-detail');
  await detail.getByTestId('user-clicks').filter({ hasText: new RegExp(`^${totalClicks}$`) }).waitFor({ timeout: 10_000 });
  assert.equal(await detail.locator('.user-id').textContent(), userId);
  assert.equal(await dashboard.locator('main img').count(), 0);
  await detail.locator('.recharts-bar-rectangle').first().waitFor();
  await shot(dashboard, '4-user-detail');

  // Sorting by clicks asks the API for that order.
  await topUsers.getByRole('button', { name: 'Clicks' }).click();
  await topUsers.locator('th[aria-sort="descending"]', { hasText: 'Clicks' }).waitFor();

  // The range is a radio group: keyboard arrows move through it, and the charts re-bucket.
  await dashboard.getByRole('radio', { name: 'Live (5 min)' }).focus();
  await dashboard.keyboard.press('ArrowRight');
  await dashboard.keyboard.press('ArrowRight');
  assert.equal(await dashboard.getByRole('radio', { name: '1 hour' }).isChecked(), true);
  await dashboard.getByText('per 30 s').first().waitFor({ timeout: 10_000 });
  await waitFor('the clicks total over 1 hour', async () => Number(await dashboard.getByTestId('kpi-clicks').textContent()) >= totalClicks, { timeoutMs: 10_000 });
  await dashboard.getByRole('radio', { name: 'Live (5 min)' }).check();

  // A phone-width view of the same dashboard (same browser profile: the token is remembered).
  const phone = watch(await dashboard.context().newPage());
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(`${platform.dashboardUrl}/?site=demo-shop`);
  await phone.getByTestId('connection-status').filter({ hasText: /^Live$/ }).waitFor({ timeout: 20_000 });
  const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px at phone width`);
  await shot(phone, '5-dashboard-phone');

  // A wrong token gets the prompt, not a broken page.
  const stranger = await open(1000, 700);
  await stranger.goto(`${platform.dashboardUrl}/?token=not-the-token-${randomBytes(8).toString('hex')}`);
  await stranger.getByRole('alert').filter({ hasText: 'refused' }).waitFor({ timeout: 10_000 });
  await stranger.getByLabel('API token').waitFor();
  await shot(stranger, '6-token-prompt');

  // The dashboard server goes away: the page says so and retries with back-off, while the
  // processor keeps committing the shoppers' windows. Back up, the feed fills the gap.
  await platform.stopDashboard();
  const downAt = Date.now();
  await dashboard.getByTestId('connection-status').filter({ hasText: /^Disconnected/ }).waitFor({ timeout: 10_000 });
  await shot(dashboard, '7-reconnecting');
  const pool = new pg.Pool({ connectionString: platform.databaseUrl });
  t.after(() => pool.end());
  const missed = await waitFor(
    'a window committed while the dashboard was down',
    async () => {
      const { rows } = await pool.query<{ user_id: string; window_start: Date }>(
        `SELECT user_id, window_start FROM user_metrics WHERE site_id = 'demo-shop' AND updated_at > $1 ORDER BY window_start DESC, user_id LIMIT 1`,
        [new Date(downAt)],
      );
      return rows[0];
    },
    { timeoutMs: 20_000, intervalMs: 250 },
  );
  await platform.startDashboard();
  await dashboard.getByTestId('connection-status').filter({ hasText: /^Live$/ }).waitFor({ timeout: 40_000 });
  const missedLabel = formatClock(missed.window_start.getTime());
  await waitFor(
    'the missed window in the live view',
    async () => {
      const rows = dashboard.locator('[data-testid="live-activity"] tbody tr[data-user]', { hasText: missedLabel });
      for (let i = 0, n = await rows.count(); i < n; i += 1) if ((await rows.nth(i).getAttribute('data-user')) === missed.user_id) return true;
      return false;
    },
    { timeoutMs: 10_000 },
  );

  await traffic.stop();
  assert.ok(traffic.stats.sent > 0 && traffic.stats.failed === 0, `demo traffic: ${JSON.stringify(traffic.stats)}`);
  assert.deepEqual(dialogs, [], 'no dialog opened');
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the pages');
});
