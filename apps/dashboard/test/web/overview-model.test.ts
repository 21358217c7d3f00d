/**
 * The overview's pure model: ranges and previous periods in the viewer's time zone, the filter
 * rules of the stats API, changes, CSV, time buckets; and the address bar's state round trip.
 */
// Days and buckets follow the browser's zone; a +05:30 zone catches code that assumes whole hours.
process.env.TZ = 'Asia/Kolkata';

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  changeOf,
  csvFileName,
  formatMetric,
  previousPeriod,
  resolveRange,
  timeBuckets,
  toCsv,
  unanswerable,
  withFilter,
  type Filter,
} from '../../web/src/overview-model.js';
import { parseUrlState, writeUrlState } from '../../web/src/url-state.js';
import { auditView, levelOf } from '../../web/src/freshness.js';

// 2026-03-10 14:07:30 in Kolkata (08:37:30 UTC).
const NOW = Date.parse('2026-03-10T08:37:30Z');
const iso = (ms: number) => new Date(ms).toISOString();

test('ranges: named ones go to the API as names, with bounds in the local day; the last 24 h end on a quarter hour', () => {
  const day = resolveRange({ key: 'day' }, NOW);
  assert.equal(day.dateRange, 'day');
  assert.equal(iso(day.from), '2026-03-09T18:30:00.000Z', 'local midnight in +05:30');
  assert.equal(iso(day.to), '2026-03-10T18:30:00.000Z');
  assert.equal(day.bucket, 'hour');

  const last24 = resolveRange({ key: '24h' }, NOW);
  assert.deepEqual(last24.dateRange, ['2026-03-09T08:45:00.000Z', '2026-03-10T08:45:00.000Z']);
  assert.equal(last24.bucket, 'hour');

  const week = resolveRange({ key: '7d' }, NOW);
  assert.equal(week.dateRange, '7d');
  assert.equal(iso(week.from), '2026-03-03T18:30:00.000Z', 'today and the six days before');
  assert.equal(week.bucket, 'day');

  const live = resolveRange({ key: 'realtime' }, NOW);
  assert.equal(live.dateRange, 'realtime');
  assert.equal(live.to - live.from, 5 * 60_000);
  assert.equal(live.bucket, 'minute');

  const custom = resolveRange({ key: 'custom', from: '2026-02-01', to: '2026-02-02' }, NOW);
  assert.deepEqual(custom.dateRange, ['2026-02-01', '2026-02-02']);
  assert.equal(custom.bucket, 'hour', 'two days: hourly');
  assert.equal(resolveRange({ key: 'custom', from: '2026-02-01', to: '2026-02-20' }, NOW).bucket, 'day');
  assert.equal(resolveRange({ key: 'custom', from: '2026-02-20', to: '2026-02-01' }, NOW).dateRange, 'day', 'a backwards range falls back to today');
  assert.equal(resolveRange({ key: 'custom', from: '2026-02-30', to: '2026-03-01' }, NOW).dateRange, 'day', 'a day that does not exist');
});

test('the previous period is as long and cut where the current one has got to', () => {
  // Today until 14:15 (the next quarter hour) against yesterday until 14:15.
  assert.deepEqual(previousPeriod(resolveRange({ key: 'day' }, NOW), NOW), ['2026-03-08T18:30:00.000Z', '2026-03-09T08:45:00.000Z']);
  assert.deepEqual(previousPeriod(resolveRange({ key: '24h' }, NOW), NOW), ['2026-03-08T08:45:00.000Z', '2026-03-09T08:45:00.000Z']);
  const live = resolveRange({ key: 'realtime' }, NOW);
  assert.deepEqual(previousPeriod(live, NOW), [iso(live.from - 5 * 60_000), iso(live.from)]);
  // A past custom range compares whole with the same number of days before it.
  const feb = resolveRange({ key: 'custom', from: '2026-02-08', to: '2026-02-14' }, NOW);
  assert.deepEqual(previousPeriod(feb, NOW), ['2026-01-31T18:30:00.000Z', '2026-02-07T18:30:00.000Z']);
});

test('which combinations the stats API answers exactly (the same rules as its 400s)', () => {
  const f = (dimension: string, value = 'x'): Filter => ({ op: 'is', dimension, value });
  assert.equal(unanswerable(['visitors', 'visits', 'bounce_rate'], [], []), undefined);
  assert.equal(unanswerable(['visitors', 'pageviews'], ['event:page'], [f('event:page')]), undefined);
  assert.equal(unanswerable(['visitors', 'visits'], ['visit:source'], [f('visit:device')]), undefined);
  assert.match(unanswerable(['visitors'], ['visit:source'], [f('event:page')])!, /Page and source cannot be combined/);
  assert.match(unanswerable(['visitors'], ['event:name'], [f('event:page')])!, /cannot be combined/);
  assert.match(unanswerable(['bounce_rate'], [], [f('event:page')])!, /Bounce rate is not split by page/);
  assert.match(unanswerable(['events'], ['visit:source'], [])!, /events are not split by source/);
  assert.match(unanswerable(['visitors'], ['time:minute'], [f('event:name')])!, /per minute/);
  assert.equal(unanswerable(['pageviews'], ['time:minute'], [f('event:name')]), undefined);
  assert.equal(unanswerable(['visitors', 'events'], ['event:name'], [f('event:name')]), undefined, 'the same event dimension twice is fine');
});

test('filters: one per dimension, the newest wins', () => {
  const filters = withFilter(withFilter([], { op: 'is', dimension: 'visit:source', value: 'a' }), { op: 'is', dimension: 'visit:source', value: 'b' });
  assert.deepEqual(filters, [{ op: 'is', dimension: 'visit:source', value: 'b' }]);
});

test('change against the previous period', () => {
  assert.deepEqual(changeOf('visitors', 12, 10), { text: '+20%', tone: 'good' });
  assert.deepEqual(changeOf('visits', 5, 10), { text: '−50%', tone: 'bad' });
  assert.deepEqual(changeOf('visitors', 3, 0), { text: 'new', tone: 'good' });
  assert.deepEqual(changeOf('visitors', 0, 0), { text: '±0%', tone: 'neutral' });
  assert.deepEqual(changeOf('bounce_rate', 40, 55, 10), { text: '−15 pp', tone: 'good' }, 'a lower bounce rate is good news, in points');
  assert.deepEqual(changeOf('bounce_rate', 60, 55, 10), { text: '+5 pp', tone: 'bad' });
  assert.equal(changeOf('bounce_rate', 25, 0, 0), undefined, 'no visits before: no rate to compare with');
  assert.equal(changeOf('visit_duration', 38, 0, 0), undefined);
  assert.equal(changeOf('visitors', 3, undefined), undefined);
  assert.equal(formatMetric('visit_duration', 75), '1m 15s');
  assert.equal(formatMetric('bounce_rate', 33.4), '33%');
  assert.equal(formatMetric('views_per_visit', 2), '2.00');
  assert.equal(formatMetric('visitors', undefined), '—');
});

test('CSV: RFC 4180 quoting, formulas defused, a safe file name', () => {
  const csv = toCsv(['Page', 'Visitors'], [['/a,b', 3], ['say "hi"', 1], ['=HYPERLINK("x")', 2], ['line\nbreak', 0]]);
  assert.equal(csv, 'Page,Visitors\r\n"/a,b",3\r\n"say ""hi""",1\r\n"\'=HYPERLINK(""x"")",2\r\n"line\nbreak",0\r\n');
  assert.equal(csvFileName('demo-shop', 'pages-top', resolveRange({ key: 'day' }, NOW)), 'demo-shop-pages-top-2026-03-10.csv');
  assert.equal(csvFileName('s', 'x y', resolveRange({ key: '7d' }, NOW)), 's-x-y-2026-03-04_2026-03-10.csv');
});

test('time buckets: local wall-clock labels as the API writes them, up to now', () => {
  const hours = timeBuckets(resolveRange({ key: 'day' }, NOW), NOW);
  assert.equal(hours.length, 15, '00:00 … 14:00');
  assert.deepEqual(hours[0], { key: '2026-03-10 00:00:00', label: '00:00' });
  assert.deepEqual(hours.at(-1), { key: '2026-03-10 14:00:00', label: '14:00' });
  const last24 = timeBuckets(resolveRange({ key: '24h' }, NOW), NOW);
  assert.equal(last24[0]!.key, '2026-03-09 14:00:00', 'the first, partial hour');
  assert.equal(last24.at(-1)!.key, '2026-03-10 14:00:00');
  const minutes = timeBuckets(resolveRange({ key: 'realtime' }, NOW), NOW);
  assert.deepEqual(
    minutes.map((b) => b.label),
    ['14:03', '14:04', '14:05', '14:06', '14:07'],
    'five minutes, the current one last',
  );
  const days = timeBuckets(resolveRange({ key: '7d' }, NOW), NOW);
  assert.deepEqual(
    days.map((b) => b.key),
    ['2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10'],
  );
  assert.equal(days[0]!.label, '4 Mar');
});

test('the address bar: filters, range and view survive a round trip; junk is dropped', () => {
  const state = {
    site: 'demo-shop',
    view: 'overview' as const,
    range: { key: 'custom' as const, from: '2026-03-01', to: '2026-03-07' },
    filters: [
      { op: 'is' as const, dimension: 'visit:source', value: 'google.com' },
      { op: 'is' as const, dimension: 'event:page', value: '/a,b?c=d&e' },
      { op: 'is' as const, dimension: 'event:props:plan', value: 'pro' },
    ],
    prop: 'plan',
  };
  const search = writeUrlState(state);
  assert.match(search, /^\?site=demo-shop&range=custom&from=2026-03-01&to=2026-03-07&f=is%2Cvisit%3Asource%2Cgoogle\.com/);
  assert.deepEqual(parseUrlState(search), state);
  assert.deepEqual(parseUrlState(''), { view: 'overview', range: { key: 'day' }, filters: [] });
  assert.deepEqual(writeUrlState(parseUrlState('')), '');
  const junk = parseUrlState('?site=bad%20site&view=admin&range=1y&f=is,visit:nope,x&f=drop,visit:source,x&f=is,visit:source&f=is,visit:os,Linux&f=is,visit:os,Mac');
  assert.deepEqual(junk, { view: 'overview', range: { key: 'day' }, filters: [{ op: 'is', dimension: 'visit:os', value: 'Linux' }] });
  assert.deepEqual(parseUrlState('?view=users&user=ada-1').user, 'ada-1');
  assert.equal(parseUrlState('?token=secret').site, undefined);
  assert.equal(writeUrlState(parseUrlState('?token=secret&site=a')), '?site=a', 'a token never goes back into the address bar');
});

test('freshness levels, and the reconcile summary as `pnpm reconcile` stores it', () => {
  const t = { amber: 10, red: 20 };
  assert.deepEqual([levelOf(null, t), levelOf(9, t), levelOf(10, t), levelOf(20, t), levelOf(5, undefined)], ['ok', 'ok', 'amber', 'red', 'ok']);
  const tally = (matching: number, different = 0, missing = 0, examples: string[] = []) => ({
    matching,
    different,
    missing,
    extra: 0,
    examples: { different: examples, missing: [], extra: [] },
  });
  const view = auditView({
    version: 1,
    ok: false,
    checks: { user_metrics: tally(400, 2, 0, ['shop/u1/12:00:05 events 3 ≠ 2']), user_sessions: tally(20), site_stats_day: tally(7, 0, 1) },
    notCompared: { windows: 3, visits: 1, buckets: 0 },
  });
  assert.deepEqual(view.totals, { matching: 427, different: 2, missing: 1, extra: 0 });
  assert.deepEqual(view.differing, [
    { sink: 'user_metrics', different: 2, missing: 0, extra: 0, example: 'shop/u1/12:00:05 events 3 ≠ 2' },
    { sink: 'site_stats_day', different: 0, missing: 1, extra: 0 },
  ]);
  assert.equal(view.notCompared, 4);
  assert.deepEqual(auditView({ error: 'the processor has not caught up' }), { totals: undefined, differing: [], error: 'the processor has not caught up' });
  assert.deepEqual(auditView(null), { totals: undefined, differing: [] });
  assert.deepEqual(auditView({ checks: [1] }), { totals: undefined, differing: [] });
});
