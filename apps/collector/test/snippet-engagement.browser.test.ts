/**
 * Engaged time, in real Chromium under Playwright's controlled clock: the page's Date and
 * timers run only when the test advances them, so "two minutes" are two minutes of the page's
 * time and nothing here depends on how fast the machine is. Checks are made on the engagement
 * events that reached website-clicks through the real collector.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { uniqueId } from '@clickstream/local-infra/testing';
import type { EnrichedEvent } from '@clickstream/shared';
import { callCs, DESKTOP_USER_AGENT, trackSends, useSnippetHarness } from './snippet-harness.js';

const { settle, open, newContext } = useSnippetHarness();

const pageNow = (page: Page) => page.evaluate(() => Date.now());

/** A person on the page: the pointer moves every 10 s of page time, for `ms`. */
async function readFor(context: BrowserContext, page: Page, ms: number): Promise<void> {
  for (let spent = 0; spent < ms; spent += 10_000) {
    await page.mouse.move(100 + (spent / 10_000) * 7, 100 + ((spent / 10_000) % 2) * 50);
    await context.clock.runFor(Math.min(10_000, ms - spent));
  }
}

/** Emulates the tab going to the background (or coming back), as Chromium reports it to the page. */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate(`(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${hidden ? 'hidden' : 'visible'}' });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  })()`);
}

/** A page of a fresh profile, with a desktop user agent, whose clock is paused once it has loaded. */
async function reader(t: { after: (fn: () => unknown) => void }, site: string) {
  const context = await newContext(t, { userAgent: DESKTOP_USER_AGENT });
  const sends = trackSends(context);
  await context.clock.install();
  const { page, errors } = await open(context, `/page2.html?site=${site}`);
  const start = (await pageNow(page)) + 1_000;
  await context.clock.pauseAt(start);
  return { context, page, errors, start, sends };
}

const engagement = (events: EnrichedEvent[]) => events.filter((e) => e.type === 'engagement');
const sum = (events: EnrichedEvent[]) => events.reduce((total, e) => total + (e.engagedMs ?? 0), 0);
/** When the snippet started: the time of its first page view (loading the page counts as activity). */
const loadedAt = (events: EnrichedEvent[]) => events.find((e) => e.type === 'page_view')!.ts;
const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= 1_000, `${what}: ${actual} ms, expected ${expected}`);
/** Engagement events whose interval [ts - engagedMs, ts) ends within [from, to]. */
const endingIn = (events: EnrichedEvent[], from: number, to: number) => engagement(events).filter((e) => e.ts >= from && e.ts <= to);

describe('snippet engagement', () => {
  test('two minutes on a visible, active page give 120 s ± 10 % of engagement, sent as short heartbeats', async (t) => {
    const site = uniqueId('engaged');
    const { context, page, errors, start, sends } = await reader(t, site);
    await readFor(context, page, 120_000);
    const end = await pageNow(page);
    assert.equal(end - start, 120_000);
    await setHidden(page, true);
    const events = await settle(site, sends, 'engagement up to the hiding', (es) => endingIn(es, end, end).length > 0);
    const beats = engagement(events);
    const total = sum(beats);
    assert.ok(total >= 108_000 && total <= 132_000, `engagedMs sum to ${total}`);
    near(total, end - loadedAt(events), 'all the time since the page loaded');
    assert.ok(beats.length >= 8, `${beats.length} engagement events: a heartbeat at least every 15 s of engaged time`);
    assert.ok(beats.every((e) => e.engagedMs! > 0 && e.engagedMs! <= 16_000), `intervals: ${beats.map((e) => e.engagedMs).join(', ')}`);
    // The intervals lie inside the visit and do not overlap: each second is counted once.
    const intervals = beats.map((e) => [e.ts - e.engagedMs!, e.ts] as const).sort((a, b) => a[0] - b[0]);
    assert.ok(intervals[0]![0] >= loadedAt(events) - 1_000 && intervals.at(-1)![1] <= end, 'within the two minutes (and the page load)');
    intervals.slice(1).forEach(([from], i) => assert.ok(from >= intervals[i]![1], 'intervals do not overlap'));
    assert.equal(new Set(beats.map((e) => e.id)).size, beats.length);
    assert.deepEqual(errors, []);
  });

  test('a hidden tab accrues nothing, whatever happens on it; shown again, it counts again', async (t) => {
    const site = uniqueId('hidden');
    const { context, page, errors, start, sends } = await reader(t, site);
    await readFor(context, page, 30_000);
    await setHidden(page, true);
    const hiddenAt = await pageNow(page);
    // Two minutes in the background, with input events that would count on a visible page.
    await readFor(context, page, 120_000);
    await page.evaluate(callCs, ['track', 'in-background']);
    await context.clock.runFor(2_000);
    await setHidden(page, false);
    const shownAt = await pageNow(page);
    await readFor(context, page, 30_000);
    const end = await pageNow(page);
    await setHidden(page, true);
    const events = await settle(
      site,
      sends,
      'engagement of both visible stretches and the event sent in the background',
      (es) => endingIn(es, end, end).length > 0 && endingIn(es, start, hiddenAt).length > 0 && es.some((e) => e.name === 'in-background'),
    );
    assert.deepEqual(endingIn(events, hiddenAt + 1, shownAt), [], 'no engagement while hidden');
    const before = sum(endingIn(events, loadedAt(events), hiddenAt));
    const after = sum(endingIn(events, shownAt + 1, end));
    near(before, hiddenAt - loadedAt(events), 'before hiding');
    near(after, 30_000, 'after showing again');
    near(sum(engagement(events)), before + after, 'in all (not the 180 s the tab was open)');
    assert.deepEqual(errors, []);
  });

  test('an idle visible page counts 30 s after the last input, then nothing', async (t) => {
    const site = uniqueId('idle');
    const { context, page, errors, start, sends } = await reader(t, site);
    await page.mouse.move(50, 50);
    await context.clock.runFor(120_000);
    const end = await pageNow(page);
    // Time flows on from here, so the page's 1-second timer sends what is queued.
    await context.clock.resume();
    // The stretch ended 30 s after the input (the page load counts as activity too): it is sent
    // then, without waiting for the tab to hide.
    const events = await settle(site, sends, 'the engagement up to the end of the stretch', (es) => endingIn(es, start + 30_000, start + 30_000).length > 0);
    const total = sum(engagement(events));
    near(total, start + 30_000 - loadedAt(events), 'from the load to 30 s after the input');
    assert.ok(engagement(events).every((e) => e.ts <= start + 30_000), 'each interval ends when the activity did');
    await setHidden(page, true);
    await page.evaluate(callCs, ['track', 'marker']);
    const after = await settle(site, sends, 'the marker', (es) => es.some((e) => e.name === 'marker'));
    assert.equal(sum(engagement(after)), total, `nothing more accrued by ${end - start} ms of idle time`);
    assert.deepEqual(errors, []);
  });
});
