/**
 * The pure half of POST /api/v1/query: time zone arithmetic, validation (every refusal names its
 * field), range resolution, and the plan's choice of rows.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '@clickstream/shared';
import { parseDashboardConfig } from '../../src/server/env.js';
import { QueryError, parseStatsQuery, type StatsQuery } from '../../src/server/stats/query-parser.js';
import { containsPattern, mergeIntervals, planStatsQuery, presencePieces, splitAtCuts, statPieces } from '../../src/server/stats/query-planner.js';
import { bucketCuts, isTimeZone, isoInZone, localFields, offsetAt, startOfLocalDay } from '../../src/server/stats/zoned-time.js';

const H = 3_600_000;
const utc = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();
const hhmm = (ms: number) => iso(ms).slice(11, 16);
/** 2024-03-10 12:34:56 UTC (18:04:56 in Kolkata). */
const NOW = utc('2024-03-10T12:34:56.789Z');
const base = { site_id: 'shop', metrics: ['visitors'], date_range: 'day' };
const parse = (body: Record<string, unknown>, now = NOW) => parseStatsQuery(body, now);
const plan = (body: Record<string, unknown>) => planStatsQuery(parse({ ...base, ...body }));

function refused(body: unknown, pattern: RegExp, now = NOW) {
  assert.throws(
    () => planStatsQuery(parseStatsQuery(body, now)),
    (e: unknown) => {
      assert.ok(e instanceof QueryError, String(e));
      assert.match(e.message, pattern);
      return true;
    },
    JSON.stringify(body),
  );
}

describe('zoned time', () => {
  test('offsets and local midnights: UTC, +05:30, +05:45, DST both ways, a skipped midnight', () => {
    assert.equal(offsetAt(NOW, 'Asia/Kolkata'), 5.5 * H);
    assert.equal(offsetAt(NOW, 'Asia/Kathmandu'), 5.75 * H);
    assert.equal(startOfLocalDay(2024, 3, 10, 'UTC'), utc('2024-03-10T00:00:00Z'));
    assert.equal(startOfLocalDay(2024, 3, 10, 'Asia/Kolkata'), utc('2024-03-09T18:30:00Z'));
    assert.equal(startOfLocalDay(2024, 1, 1, 'Asia/Kathmandu'), utc('2023-12-31T18:15:00Z'));
    // Berlin: 23 hours on the last Sunday of March, 25 on the last Sunday of October.
    assert.equal(startOfLocalDay(2024, 4, 1, 'Europe/Berlin') - startOfLocalDay(2024, 3, 31, 'Europe/Berlin'), 23 * H);
    assert.equal(startOfLocalDay(2024, 10, 28, 'Europe/Berlin') - startOfLocalDay(2024, 10, 27, 'Europe/Berlin'), 25 * H);
    assert.equal(startOfLocalDay(2024, 3, 31, 'Europe/Berlin'), utc('2024-03-30T23:00:00Z'));
    assert.equal(startOfLocalDay(2024, 10, 27, 'Europe/Berlin'), utc('2024-10-26T22:00:00Z'));
    // Havana skips midnight on 2024-03-10: the day begins at the transition, 01:00 local.
    const havana = startOfLocalDay(2024, 3, 10, 'America/Havana');
    assert.equal(havana, utc('2024-03-10T05:00:00Z'));
    assert.deepEqual(localFields(havana, 'America/Havana'), { year: 2024, month: 3, day: 10, hour: 1, minute: 0, second: 0 });
    // Day overflow rolls into the next month.
    assert.equal(startOfLocalDay(2024, 1, 32, 'UTC'), utc('2024-02-01T00:00:00Z'));
  });

  test('isoInZone prints the offset of that instant', () => {
    assert.equal(isoInZone(utc('2024-03-09T18:30:00Z'), 'Asia/Kolkata'), '2024-03-10T00:00:00+05:30');
    assert.equal(isoInZone(utc('2024-07-01T12:00:00Z'), 'America/New_York'), '2024-07-01T08:00:00-04:00');
    assert.equal(isoInZone(utc('2024-01-01T12:00:00Z'), 'UTC'), '2024-01-01T12:00:00+00:00');
  });

  test('bucketCuts: local hours of +05:30 fall on :30 UTC; DST days have 23 and 25 hours; days cut at local midnight', () => {
    const from = utc('2024-03-09T18:30:00Z');
    const cuts = bucketCuts(from, from + 24 * H, 'hour', 'Asia/Kolkata');
    assert.equal(cuts.length, 23);
    assert.ok(cuts.every((c) => hhmm(c).endsWith(':30')));
    assert.equal(cuts[0], utc('2024-03-09T19:30:00Z'));
    const berlin = (y: number, mo: number, d: number) => startOfLocalDay(y, mo, d, 'Europe/Berlin');
    assert.equal(bucketCuts(berlin(2024, 3, 31), berlin(2024, 4, 1), 'hour', 'Europe/Berlin').length, 22);
    assert.equal(bucketCuts(berlin(2024, 10, 27), berlin(2024, 10, 28), 'hour', 'Europe/Berlin').length, 24);
    // Lord Howe moves its clock by 30 minutes: the hour 02:xx lasts half an hour that night.
    const lh = (d: number) => startOfLocalDay(2024, 10, d, 'Australia/Lord_Howe');
    const lhCuts = bucketCuts(lh(6), lh(7), 'hour', 'Australia/Lord_Howe').map(hhmm);
    assert.deepEqual(lhCuts.slice(0, 3), ['14:30', '15:30', '16:00']);
    assert.deepEqual(
      bucketCuts(from, from + 3 * 24 * H, 'day', 'Asia/Kolkata').map(iso),
      ['2024-03-10T18:30:00.000Z', '2024-03-11T18:30:00.000Z'],
    );
  });

  test('isTimeZone takes IANA names only', () => {
    for (const ok of ['UTC', 'Asia/Kolkata', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'Europe/Berlin']) assert.ok(isTimeZone(ok), ok);
    for (const bad of ['+05:30', '-03:00', 'Mars/Olympus', '', 'Asia/Kolkata; DROP TABLE x', 'a'.repeat(100)]) assert.ok(!isTimeZone(bad), bad);
  });
});

describe('date_range', () => {
  const range = (date_range: unknown, timezone?: string, now = NOW) => {
    const q = parse({ ...base, date_range, ...(timezone ? { timezone } : {}) }, now);
    return [iso(q.range.from), iso(q.range.to)];
  };

  test('named ranges in UTC and in Asia/Kolkata: today inclusive, whole local days', () => {
    assert.deepEqual(range('day'), ['2024-03-10T00:00:00.000Z', '2024-03-11T00:00:00.000Z']);
    assert.deepEqual(range('7d'), ['2024-03-04T00:00:00.000Z', '2024-03-11T00:00:00.000Z']);
    assert.deepEqual(range('30d'), ['2024-02-10T00:00:00.000Z', '2024-03-11T00:00:00.000Z']);
    assert.deepEqual(range('month'), ['2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    assert.deepEqual(range('day', 'Asia/Kolkata'), ['2024-03-09T18:30:00.000Z', '2024-03-10T18:30:00.000Z']);
    // 20:00 UTC is already tomorrow in Kolkata.
    assert.deepEqual(range('day', 'Asia/Kolkata', utc('2024-03-10T20:00:00Z')), ['2024-03-10T18:30:00.000Z', '2024-03-11T18:30:00.000Z']);
    assert.deepEqual(range('7d', 'Asia/Kolkata'), ['2024-03-03T18:30:00.000Z', '2024-03-10T18:30:00.000Z']);
    assert.deepEqual(range('month', 'America/New_York'), ['2024-03-01T05:00:00.000Z', '2024-04-01T04:00:00.000Z']);
  });

  test('realtime: the last five whole minutes, the current one included', () => {
    assert.deepEqual(range('realtime'), ['2024-03-10T12:30:00.000Z', '2024-03-10T12:35:00.000Z']);
  });

  test('dates are whole days of the zone, both included; date-times keep their offset or are wall-clock times of the zone', () => {
    assert.deepEqual(range(['2024-01-01', '2024-01-02'], 'Asia/Kolkata'), ['2023-12-31T18:30:00.000Z', '2024-01-02T18:30:00.000Z']);
    assert.deepEqual(range(['2024-01-01T10:00:00+05:30', '2024-01-01T12:00:00Z']), ['2024-01-01T04:30:00.000Z', '2024-01-01T12:00:00.000Z']);
    assert.deepEqual(range(['2024-01-01T10:00', '2024-01-01T11:00'], 'Asia/Kolkata'), ['2024-01-01T04:30:00.000Z', '2024-01-01T05:30:00.000Z']);
    // Floored to whole minutes.
    assert.deepEqual(range(['2024-01-01T10:00:59.999Z', '2024-01-01T10:02:30Z']), ['2024-01-01T10:00:00.000Z', '2024-01-01T10:02:00.000Z']);
  });

  test('the query echoes the resolved range in its zone', () => {
    const q = parse({ ...base, timezone: 'Asia/Kolkata' });
    assert.deepEqual(planStatsQuery(q).dimensions, []);
    assert.equal(isoInZone(q.range.from, q.timezone), '2024-03-10T00:00:00+05:30');
  });
});

describe('refusals name the field', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', [1], /JSON object/],
    ['unknown field', { ...base, interval: 'date' }, /unknown field "interval"/],
    ['site_id missing', { metrics: ['visitors'], date_range: 'day' }, /site_id is required/],
    ['site_id malformed', { ...base, site_id: 'a b' }, /site_id/],
    ['metrics missing', { site_id: 'shop', date_range: 'day' }, /metrics is required/],
    ['metrics empty', { ...base, metrics: [] }, /metrics must be a non-empty list/],
    ['unknown metric', { ...base, metrics: ['visitors', 'revenue'] }, /metrics\[1\]: unknown metric "revenue"/],
    ['metric twice', { ...base, metrics: ['visits', 'visits'] }, /metrics\[1\]: visits is listed twice/],
    ['date_range missing', { site_id: 'shop', metrics: ['visitors'] }, /date_range is required/],
    ['unknown date_range', { ...base, date_range: '12mo' }, /date_range: unknown range "12mo"/],
    ['date_range not a pair', { ...base, date_range: ['2024-01-01'] }, /date_range must be/],
    ['impossible date', { ...base, date_range: ['2024-02-30', '2024-03-01'] }, /date_range\[0\]: "2024-02-30" is not a date/],
    ['reversed dates', { ...base, date_range: ['2024-03-02', '2024-03-01'] }, /date_range: the first date/],
    ['mixed kinds', { ...base, date_range: ['2024-03-01', '2024-03-02T00:00:00Z'] }, /date_range\[0\].*one kind/],
    ['garbage date-time', { ...base, date_range: ['2024-03-01T00:00:00Z', 'tomorrow'] }, /date_range\[1\]: "tomorrow"/],
    ['empty date-time range', { ...base, date_range: ['2024-03-01T10:00:00Z', '2024-03-01T10:00:30Z'] }, /date_range: the range must end/],
    ['too long', { ...base, date_range: ['2000-01-01', '2024-01-01'] }, /date_range spans more than/],
    ['unknown timezone', { ...base, timezone: 'Mars/Olympus' }, /timezone: "Mars\/Olympus" is not an IANA/],
    ['offset as timezone', { ...base, timezone: '+05:30' }, /timezone/],
    ['unknown dimension', { ...base, dimensions: ['visit:city'] }, /dimensions\[0\]: unknown dimension "visit:city"/],
    ['props without key', { ...base, dimensions: ['event:props:'] }, /dimensions\[0\].*property name/],
    ['two time dimensions', { ...base, dimensions: ['time:day', 'time:hour'] }, /dimensions\[1\]: at most one time dimension/],
    ['dimension twice', { ...base, dimensions: ['visit:os', 'visit:os'] }, /dimensions\[1\]: visit:os is listed twice/],
    ['minutes over a month', { ...base, date_range: '30d', dimensions: ['time:minute'] }, /time:minute covers at most 7 days/],
    ['bad filter op', { ...base, filters: [['matches', 'event:page', ['/a']]] }, /filters\[0\]: operator "matches" is not supported/],
    ['filter shape', { ...base, filters: ['event:page'] }, /filters\[0\] must be/],
    ['filter on time', { ...base, filters: [['is', 'time:day', ['2024-01-01']]] }, /filters\[0\]\[1\]: time:day cannot be filtered/],
    ['filter on unknown dimension', { ...base, filters: [['is', 'visit:city', ['Berlin']]] }, /filters\[0\]\[1\]: unknown dimension/],
    ['filter without values', { ...base, filters: [['is', 'event:page', []]] }, /filters\[0\]\[2\] must be a list/],
    ['filter with a number', { ...base, filters: [['is', 'event:page', ['/a', 5]]] }, /filters\[0\]\[2\]\[1\] must be a string/],
    ['filter modifier', { ...base, filters: [['is', 'event:page', ['/a'], { regex: true }]] }, /filters\[0\]\[3\]: unknown field "regex"/],
    ['order_by on a metric not queried', { ...base, order_by: [['visits', 'desc']] }, /order_by\[0\]: "visits" is neither a metric nor a dimension/],
    ['order_by direction', { ...base, order_by: [['visitors', 'up']] }, /order_by\[0\]: direction "up"/],
    ['limit too large', { ...base, pagination: { limit: 10001 } }, /pagination.limit must be an integer from 1 to 10000/],
    ['negative offset', { ...base, pagination: { offset: -1 } }, /pagination.offset/],
    ['pagination field', { ...base, pagination: { page: 2 } }, /pagination: unknown field "page"/],
    ['include field', { ...base, include: { time_labels: true } }, /include: unknown field "time_labels"/],
    // Combinations the stored data cannot answer exactly.
    ['event filter with a visit metric', { ...base, metrics: ['bounce_rate'], filters: [['is', 'event:page', ['/a']]] }, /filter on event:page cannot be combined with metric bounce_rate/],
    ['event dimension with visits', { ...base, metrics: ['visitors', 'visits'], dimensions: ['event:name'] }, /dimension event:name cannot be combined with metric visits/],
    ['visit filter with event:page', { ...base, dimensions: ['event:page'], filters: [['is', 'visit:country', ['DE']]] }, /dimension event:page cannot be combined with filter on visit:country/],
    ['event filter with a visit dimension', { ...base, dimensions: ['visit:source'], filters: [['contains', 'event:page', ['/blog']]] }, /filter on event:page cannot be combined with dimension visit:source/],
    ['two event dimensions', { ...base, dimensions: ['event:page'], filters: [['is', 'event:name', ['signup']]] }, /filter on event:name cannot be combined with dimension event:page/],
    ['events by a visit dimension', { ...base, metrics: ['events'], dimensions: ['visit:source'] }, /metric events cannot be combined with dimension visit:source/],
    ['visitors per minute by page', { ...base, dimensions: ['time:minute', 'event:page'] }, /dimension time:minute cannot be combined with metric visitors and dimension event:page/],
  ];
  for (const [name, body, pattern] of cases) test(name, () => refused(body, pattern));
});

describe('plan', () => {
  test('defaults: UTC, limit 10000, first metric descending; time ascending first when grouped by time', () => {
    const q: StatsQuery = parse({ ...base, metrics: ['pageviews', 'visitors'] });
    assert.equal(q.timezone, 'UTC');
    assert.equal(q.limit, 10_000);
    assert.equal(q.offset, 0);
    assert.deepEqual(q.orderBy, [['pageviews', 'desc']]);
    assert.deepEqual(parse({ ...base, dimensions: ['event:page', 'time:day'] }).orderBy, [['time:day', 'asc'], ['visitors', 'desc']]);
  });

  test('mergeIntervals and splitAtCuts', () => {
    assert.deepEqual(mergeIntervals([[5, 6], [1, 2], [2, 3], [4, 4]]), [[1, 3], [5, 6]]);
    assert.deepEqual(splitAtCuts(0, 10, [0, 3, 7, 10, 12]), [[0, 3], [3, 7], [7, 10]]);
  });

  test('statPieces: whole UTC days, then whole hours, then minutes; never a row across a cut', () => {
    const from = utc('2024-03-09T18:30:00Z');
    const to = utc('2024-03-12T18:30:00Z');
    const rows = statPieces([[from, to]]);
    assert.deepEqual(rows.day.map((r) => r.map(iso)), [['2024-03-10T00:00:00.000Z', '2024-03-12T00:00:00.000Z']]);
    assert.deepEqual(rows.hour.map((r) => r.map(iso)), [
      ['2024-03-09T19:00:00.000Z', '2024-03-10T00:00:00.000Z'],
      ['2024-03-12T00:00:00.000Z', '2024-03-12T18:00:00.000Z'],
    ]);
    assert.deepEqual(rows.minute.map((r) => r.map(iso)), [
      ['2024-03-09T18:30:00.000Z', '2024-03-09T19:00:00.000Z'],
      ['2024-03-12T18:00:00.000Z', '2024-03-12T18:30:00.000Z'],
    ]);
    // Split at Kolkata's local hours, no whole UTC hour fits: minutes only.
    const day = statPieces(splitAtCuts(from, from + 24 * H, bucketCuts(from, from + 24 * H, 'hour', 'Asia/Kolkata')));
    assert.deepEqual([day.day.length, day.hour.length], [0, 0]);
    assert.deepEqual(day.minute, [[from, from + 24 * H]]);
    // Every minute is covered exactly once.
    const covered = [...rows.day, ...rows.hour, ...rows.minute].reduce((n, [a, b]) => n + (b - a), 0);
    assert.equal(covered, to - from);
    // A UTC month reads day rows only.
    assert.deepEqual(statPieces([[utc('2024-03-01T00:00:00Z'), utc('2024-04-01T00:00:00Z')]]).hour, []);
  });

  test('presencePieces: quarters inside, windows at the edges; by an event dimension the edges widen to quarters', () => {
    const a = utc('2024-01-10T10:05:00Z');
    const b = utc('2024-01-10T10:50:00Z');
    const exact = presencePieces([[a, b]], 'exact');
    assert.deepEqual(exact.quarters.map((r) => r.map(hhmm)), [['10:15', '10:45']]);
    assert.deepEqual(exact.windows.map((r) => r.map(hhmm)), [['10:05', '10:15'], ['10:45', '10:50']]);
    assert.equal(exact.widened, false);
    const widened = presencePieces([[a, b]], 'quarters');
    assert.deepEqual(widened.quarters.map((r) => r.map(hhmm)), [['10:00', '11:00']]);
    assert.equal(widened.widened, true);
    const aligned = presencePieces([[utc('2024-01-10T10:00:00Z'), utc('2024-01-10T11:00:00Z')]], 'quarters');
    assert.equal(aligned.widened, false);
    assert.deepEqual(presencePieces([[a, b]], 'windows').windows, [[a, b]]);
  });

  test('realtime visitors by page warn about quarter-hour resolution; every day range in every zone is exact', () => {
    assert.equal(plan({ date_range: 'realtime', dimensions: ['event:page'] }).metricWarnings.visitors?.code, 'quarter_hour_resolution');
    assert.deepEqual(plan({ date_range: 'realtime' }).metricWarnings, {});
    for (const timezone of ['UTC', 'Asia/Kolkata', 'Asia/Kathmandu', 'America/St_Johns', 'Australia/Lord_Howe']) {
      for (const date_range of ['day', '7d', '30d', 'month']) {
        assert.deepEqual(plan({ date_range, timezone, dimensions: ['event:page', 'time:hour'] }).metricWarnings, {}, `${timezone} ${date_range}`);
      }
    }
  });

  test('values reach SQL only as parameters; dimension names map to fixed columns', () => {
    const evil = "x'); DROP TABLE user_sessions; --";
    const p = plan({
      metrics: ['visitors', 'visits'],
      dimensions: ['visit:device'],
      filters: [['is', 'visit:source', [evil]], ['contains', 'visit:utm_campaign', ['50%_off']]],
    });
    assert.ok(!p.sql.includes(evil));
    assert.ok(!p.sql.includes('50%'));
    assert.match(p.sql, /s\.device_type/);
    assert.ok(p.params.some((v) => Array.isArray(v) && v[0] === evil));
    assert.ok(p.params.some((v) => Array.isArray(v) && v[0] === '%50\\%\\_off%'));
    const props = plan({ metrics: ['events'], dimensions: ['event:props:plan'] });
    assert.ok(!props.sql.includes('event:props:plan'));
    assert.ok(props.params.includes('event:props:plan'));
  });

  test('every parameter is used by the statement (PostgreSQL needs a type for each)', () => {
    const shapes: Array<Record<string, unknown>> = [
      { date_range: 'realtime' },
      { date_range: 'realtime', metrics: ['visitors', 'pageviews', 'events'], dimensions: ['time:minute'], timezone: 'Asia/Kolkata' },
      { date_range: 'realtime', metrics: ['visitors', 'events'], dimensions: ['event:name'], filters: [['is_not', 'event:name', ['click']]] },
      { date_range: ['2024-01-10T10:05:00Z', '2024-01-10T10:50:00Z'], metrics: ['visitors', 'pageviews'], filters: [['contains', 'event:page', ['/a']]] },
      { date_range: '30d', metrics: ['visitors', 'visits', 'pageviews', 'events', 'bounce_rate', 'visit_duration', 'views_per_visit'], timezone: 'Asia/Kolkata' },
      { date_range: '7d', metrics: ['visitors', 'pageviews', 'views_per_visit'], dimensions: ['visit:country', 'time:day'], filters: [['is', 'visit:os', ['Linux'], { case_sensitive: false }]] },
    ];
    for (const shape of shapes) {
      const p = plan(shape);
      p.params.forEach((_, i) => assert.match(p.sql, new RegExp(`\\$${i + 1}::`), `$${i + 1} of ${JSON.stringify(shape)}`));
    }
  });

  test('containsPattern escapes LIKE wildcards', () => {
    assert.equal(containsPattern('a%b_c\\d'), '%a\\%b\\_c\\\\d%');
  });

  test('sources: visit dimensions read visits only; no-dimension counts read the rollups and presence', () => {
    const byVisit = plan({ metrics: ['visitors', 'pageviews', 'bounce_rate'], dimensions: ['visit:source'] });
    assert.match(byVisit.sql, /FROM user_sessions/);
    assert.doesNotMatch(byVisit.sql, /site_stats|visitor_presence|user_metrics/);
    const top = plan({ metrics: ['visitors', 'pageviews', 'events', 'visits'], date_range: '7d' });
    assert.match(top.sql, /site_stats_day/);
    assert.match(top.sql, /visitor_presence/);
    assert.doesNotMatch(top.sql, /user_metrics/);
    assert.match(top.sql, /user_sessions/);
    const live = plan({ date_range: 'realtime' });
    assert.match(live.sql, /user_metrics/);
    assert.doesNotMatch(live.sql, /visitor_presence/);
  });
});

test('QUERY_TIMEOUT_MS: 10 s by default; a bad value names the setting', () => {
  assert.equal(parseDashboardConfig({}).queryTimeoutMs, 10_000);
  assert.equal(parseDashboardConfig({ QUERY_TIMEOUT_MS: '2500' }).queryTimeoutMs, 2500);
  for (const bad of ['0', '-1', '10s', '1.5', '600001']) {
    assert.throws(
      () => parseDashboardConfig({ QUERY_TIMEOUT_MS: bad }),
      (e: unknown) => e instanceof ConfigError && e.setting === 'QUERY_TIMEOUT_MS' && /QUERY_TIMEOUT_MS/.test(e.message),
      bad,
    );
  }
});
