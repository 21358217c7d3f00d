import { QueryError, echoRange, type Dimension, type Filter, type Metric, type StatsQuery, type TimeUnit } from './query-parser.js';
import { DAY_MS, HOUR_MS, QUARTER_MS, bucketCuts, ceilTo, floorTo } from './zoned-time.js';

/**
 * Plans a validated stats query into one parameterised SQL statement (one snapshot), or refuses
 * with a QueryError a combination the stored data cannot answer exactly. Pure.
 *
 * Where each number comes from:
 * - visits, bounce_rate, visit_duration, views_per_visit, and every metric grouped or filtered by a
 *   visit dimension: `user_sessions`, the visits that start in the range (or bucket); visitors
 *   there are distinct user ids among those visits, pageviews the sum of their page views.
 * - pageviews and events otherwise: `site_stats_day` rows for the whole UTC days inside the range
 *   (or inside one time bucket), `site_stats_hour` for whole hours, `site_stats_minute` for the
 *   rest: exact for any range of whole minutes.
 * - visitors otherwise: distinct users of `visitor_presence` over the whole quarter hours inside
 *   the range, plus - without an event dimension - the `user_metrics` windows with a non-engagement
 *   event for the minutes outside whole quarters: exact. By an event dimension outside whole
 *   quarters (realtime, odd date-times), the quarters overlapping the range count: meta says so.
 */

export interface MetricWarning {
  code: string;
  warning: string;
}

export interface QueryPlan {
  sql: string;
  params: unknown[];
  dimensions: string[];
  metrics: Metric[];
  includeTotalRows: boolean;
  metricWarnings: Partial<Record<Metric, MetricWarning>>;
}

export type Interval = [number, number];

/** Sorted, with touching or overlapping intervals joined. */
export function mergeIntervals(list: readonly Interval[]): Interval[] {
  const sorted = list.filter(([a, b]) => a < b).sort((x, y) => x[0] - y[0]);
  const out: Interval[] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** [from, to) split at every cut strictly inside it. */
export function splitAtCuts(from: number, to: number, cuts: readonly number[]): Interval[] {
  const out: Interval[] = [];
  let start = from;
  for (const cut of cuts) {
    if (cut <= start || cut >= to) continue;
    out.push([start, cut]);
    start = cut;
  }
  out.push([start, to]);
  return out;
}

/** The whole `unit` buckets (epoch-aligned) inside [a, b), and what is left on either side. */
function carve(a: number, b: number, unit: number): { inner: Interval | null; rest: Interval[] } {
  const lo = ceilTo(a, unit);
  const hi = floorTo(b, unit);
  if (lo >= hi) return { inner: null, rest: [[a, b]] };
  return { inner: [lo, hi], rest: ([[a, lo], [hi, b]] as Interval[]).filter(([x, y]) => x < y) };
}

export interface StatPieces {
  day: Interval[];
  hour: Interval[];
  minute: Interval[];
}

/**
 * Which rows of site_stats_day / _hour / _minute cover the pieces exactly: whole UTC days, then
 * whole hours, then minutes. No row spans two pieces. With `minutesOnly`, minute rows only.
 */
export function statPieces(pieces: readonly Interval[], minutesOnly = false): StatPieces {
  if (minutesOnly) return { day: [], hour: [], minute: mergeIntervals(pieces) };
  const day: Interval[] = [];
  const hour: Interval[] = [];
  const minute: Interval[] = [];
  for (const [a, b] of pieces) {
    const d = carve(a, b, DAY_MS);
    if (d.inner) day.push(d.inner);
    for (const [x, y] of d.rest) {
      const h = carve(x, y, HOUR_MS);
      if (h.inner) hour.push(h.inner);
      minute.push(...h.rest);
    }
  }
  return { day: mergeIntervals(day), hour: mergeIntervals(hour), minute: mergeIntervals(minute) };
}

export interface PresencePieces {
  /** visitor_presence quarters to read. */
  quarters: Interval[];
  /** user_metrics windows to read. */
  windows: Interval[];
  /** True when quarters reach outside the pieces (visitors counted at quarter-hour resolution). */
  widened: boolean;
}

/**
 * How visitors over the pieces are read: `exact` takes whole quarters from visitor_presence and
 * the rest from user_metrics windows; `windows` only windows (per-minute buckets); `quarters`
 * only presence (by an event dimension, which windows do not carry), widening the edges to whole
 * quarters.
 */
export function presencePieces(pieces: readonly Interval[], mode: 'exact' | 'windows' | 'quarters'): PresencePieces {
  if (mode === 'windows') return { quarters: [], windows: mergeIntervals(pieces), widened: false };
  const quarters: Interval[] = [];
  const rest: Interval[] = [];
  for (const [a, b] of pieces) {
    const q = carve(a, b, QUARTER_MS);
    if (q.inner) quarters.push(q.inner);
    rest.push(...q.rest);
  }
  if (mode === 'exact') return { quarters: mergeIntervals(quarters), windows: mergeIntervals(rest), widened: false };
  for (const [x, y] of rest) quarters.push([floorTo(x, QUARTER_MS), ceilTo(y, QUARTER_MS)]);
  return { quarters: mergeIntervals(quarters), windows: [], widened: rest.length > 0 };
}

class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }
}

const SESSION_METRICS: ReadonlySet<Metric> = new Set(['visits', 'bounce_rate', 'visit_duration', 'views_per_visit']);

interface Item {
  desc: string;
  dimension: Dimension;
}

/** LIKE pattern for "contains": the value's own %, _ and \ match themselves. */
export function containsPattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function filterSql(expr: string, f: Filter, params: Params): string {
  if (f.op === 'contains') {
    return `${expr} ${f.caseSensitive ? 'LIKE' : 'ILIKE'} ANY(${params.add(f.values.map(containsPattern), 'text[]')})`;
  }
  const e = f.caseSensitive ? expr : `lower(${expr})`;
  const list = params.add(f.caseSensitive ? f.values : f.values.map((v) => v.toLowerCase()), 'text[]');
  return f.op === 'is' ? `${e} = ANY(${list})` : `NOT (${e} = ANY(${list}))`;
}

function timeLabel(expr: string, unit: TimeUnit, tz: string): string {
  const local = `(${expr} AT TIME ZONE ${tz})`;
  return unit === 'day' ? `to_char(${local}, 'YYYY-MM-DD')` : `to_char(date_trunc('${unit}', ${local}), 'YYYY-MM-DD HH24:MI:SS')`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * `FROM table alias ...` for the rows whose `column` lies in one of `intervals`, besides
 * `conditions`. One interval is a plain range (the planner estimates it, and may scan in
 * parallel); several join an unnest of their bounds.
 */
function fromRanges(table: string, alias: string, column: string, intervals: readonly Interval[], conditions: readonly string[], params: Params): string {
  if (intervals.length === 1) {
    const [[a, b]] = intervals as [Interval];
    const bounds = [`${alias}.${column} >= ${params.add(iso(a), 'timestamptz')}`, `${alias}.${column} < ${params.add(iso(b), 'timestamptz')}`];
    return `FROM ${table} ${alias} WHERE ${[...conditions, ...bounds].join(' AND ')}`;
  }
  const lo = params.add(intervals.map(([a]) => iso(a)), 'timestamptz[]');
  const hi = params.add(intervals.map(([, b]) => iso(b)), 'timestamptz[]');
  return `FROM unnest(${lo}, ${hi}) AS r(lo, hi) JOIN ${table} ${alias} ON ${[...conditions, `${alias}.${column} >= r.lo`, `${alias}.${column} < r.hi`].join(' AND ')}`;
}

const groupBy = (names: readonly string[]) => (names.length > 0 ? ` GROUP BY ${names.join(', ')}` : '');

/** Plans `q`; throws QueryError when the data cannot answer it exactly. */
export function planStatsQuery(q: StatsQuery): QueryPlan {
  const visitItems: Item[] = [
    ...q.dimensions.filter((d) => d.kind === 'visit').map((d) => ({ desc: `dimension ${d.name}`, dimension: d })),
    ...q.filters.filter((f) => f.dimension.kind === 'visit').map((f) => ({ desc: `filter on ${f.dimension.name}`, dimension: f.dimension })),
  ];
  const eventItems: Item[] = [
    ...q.dimensions.filter((d) => d.kind === 'event').map((d) => ({ desc: `dimension ${d.name}`, dimension: d })),
    ...q.filters.filter((f) => f.dimension.kind === 'event').map((f) => ({ desc: `filter on ${f.dimension.name}`, dimension: f.dimension })),
  ];
  const timeDim = q.dimensions.find((d): d is Extract<Dimension, { kind: 'time' }> => d.kind === 'time');

  if (visitItems.length > 0 && eventItems.length > 0) {
    throw new QueryError(
      `${eventItems[0]!.desc} cannot be combined with ${visitItems[0]!.desc}: events are counted by event dimension and visits by visit dimension, never both`,
    );
  }
  const eventKeys = [...new Set(eventItems.map((i) => i.dimension.name))];
  if (eventKeys.length > 1) {
    const other = eventItems.find((i) => i.dimension.name !== eventKeys[0])!;
    throw new QueryError(`${other.desc} cannot be combined with ${eventItems[0]!.desc}: events are counted by one event dimension at a time`);
  }
  for (const m of q.metrics) {
    if (SESSION_METRICS.has(m) && eventItems.length > 0) {
      throw new QueryError(`${eventItems[0]!.desc} cannot be combined with metric ${m}: visits are not stored by event dimension`);
    }
    if (m === 'events' && visitItems.length > 0) {
      throw new QueryError(
        `metric events cannot be combined with ${visitItems[0]!.desc}: a visit's event count includes engagement heartbeats, the site's event counts do not`,
      );
    }
    if (m === 'visitors' && eventItems.length > 0 && timeDim?.unit === 'minute') {
      throw new QueryError(
        `dimension time:minute cannot be combined with metric visitors and ${eventItems[0]!.desc}: visitors by event dimension are kept per quarter hour`,
      );
    }
  }

  const visitSide = visitItems.length > 0;
  const sessionMetrics = q.metrics.filter((m) => SESSION_METRICS.has(m) || (visitSide && (m === 'visitors' || m === 'pageviews')));
  const statMetrics = visitSide ? [] : q.metrics.filter((m) => m === 'pageviews' || m === 'events');
  const presenceMetrics = visitSide ? [] : q.metrics.filter((m) => m === 'visitors');

  const params = new Params();
  const site = params.add(q.siteId, 'text');
  const tz = timeDim ? params.add(q.timezone, 'text') : '';
  const dimNames = q.dimensions.map((_, i) => `d${i}`);
  const eventKey = eventItems[0]?.dimension.kind === 'event' ? eventItems[0].dimension.key : '';
  const eventFilters = q.filters.filter((f) => f.dimension.kind === 'event');
  const { from, to } = q.range;
  const cuts = timeDim && timeDim.unit !== 'minute' ? bucketCuts(from, to, timeDim.unit, q.timezone) : [];
  const pieces = splitAtCuts(from, to, cuts);
  const metricWarnings: QueryPlan['metricWarnings'] = {};

  const sources: Array<{ name: string; sql: string; metrics: Metric[] }> = [];

  if (sessionMetrics.length > 0) {
    const dims = q.dimensions.map((d, i) => {
      const expr = d.kind === 'visit' ? `coalesce(s.${d.column}, '(not set)')` : d.kind === 'time' ? timeLabel('s.session_start', d.unit, tz) : "''";
      return `${expr} AS d${i}`;
    });
    const where = [`s.site_id = ${site}`, `s.session_start >= ${params.add(iso(from), 'timestamptz')}`, `s.session_start < ${params.add(iso(to), 'timestamptz')}`];
    for (const f of q.filters) {
      if (f.dimension.kind === 'visit') where.push(filterSql(`coalesce(s.${f.dimension.column}, '(not set)')`, f, params));
    }
    // Distinct visitors need one row per (dimensions, user) first; without them, one per visit.
    const inner = sessionMetrics.includes('visitors')
      ? `SELECT ${[...dims, 's.user_id', 'count(*) AS v', 'sum(s.page_views) AS pv', 'count(*) FILTER (WHERE s.bounce) AS b', 'sum(s.duration_ms) AS dur'].join(', ')}` +
        ` FROM user_sessions s WHERE ${where.join(' AND ')} GROUP BY ${[...dimNames, 's.user_id'].join(', ')}`
      : `SELECT ${[...dims, '1 AS v', 's.page_views AS pv', 's.bounce::int AS b', 's.duration_ms AS dur'].join(', ')} FROM user_sessions s WHERE ${where.join(' AND ')}`;
    const expr: Record<Metric, string> = {
      visitors: 'count(*)::numeric',
      visits: 'sum(v)::numeric',
      pageviews: 'sum(pv)::numeric',
      events: 'NULL::numeric',
      bounce_rate: 'round(100 * sum(b)::numeric / nullif(sum(v), 0))',
      visit_duration: 'round(sum(dur)::numeric / 1000 / nullif(sum(v), 0))',
      views_per_visit: 'round(sum(pv)::numeric / nullif(sum(v), 0), 2)',
    };
    sources.push({
      name: 'visits',
      metrics: sessionMetrics,
      sql: `SELECT ${[...dimNames, ...sessionMetrics.map((m) => `${expr[m]} AS m_${m}`)].join(', ')} FROM (${inner}) per_user${groupBy(dimNames)}`,
    });
  }

  if (statMetrics.length > 0) {
    const key = params.add(eventKey, 'text');
    const rows = statPieces(pieces, timeDim?.unit === 'minute');
    const conditions = [`g.site_id = ${site}`, `g.dimension = ${key}`, ...eventFilters.map((f) => filterSql('g.value', f, params))];
    const parts = (
      [
        ['site_stats_day', rows.day],
        ['site_stats_hour', rows.hour],
        ['site_stats_minute', rows.minute],
      ] as const
    )
      .filter(([, intervals]) => intervals.length > 0)
      .map(
        ([table, intervals]) =>
          `SELECT g.bucket_start, g.value, g.pageviews, g.events ${fromRanges(table, 'g', 'bucket_start', intervals, conditions, params)}`,
      );
    const dims = q.dimensions.map((d, i) => `${d.kind === 'time' ? timeLabel('t.bucket_start', d.unit, tz) : 't.value'} AS d${i}`);
    const expr = { pageviews: 'sum(t.pageviews)::numeric', events: 'sum(t.events)::numeric' } as Record<Metric, string>;
    sources.push({
      name: 'event_counts',
      metrics: statMetrics,
      sql: `SELECT ${[...dims, ...statMetrics.map((m) => `${expr[m]} AS m_${m}`)].join(', ')} FROM (${parts.join(' UNION ALL ')}) t${groupBy(dimNames)}`,
    });
  }

  if (presenceMetrics.length > 0) {
    const mode = eventKey !== '' ? 'quarters' : timeDim?.unit === 'minute' ? 'windows' : 'exact';
    const read = presencePieces(pieces, mode);
    if (read.widened) {
      const [a, b] = echoRange(q);
      metricWarnings.visitors = {
        code: 'quarter_hour_resolution',
        warning: `visitors by ${eventItems[0]!.dimension.name} are kept per quarter hour: they count over the quarter hours that overlap ${a} - ${b}`,
      };
    }
    const parts: string[] = [];
    if (read.quarters.length > 0) {
      // Parameters are added only for the parts that use them: PostgreSQL needs a type for each.
      const key = params.add(eventKey, 'text');
      const conditions = [`p.site_id = ${site}`, `p.dimension = ${key}`, ...eventFilters.map((f) => filterSql('p.value', f, params))];
      parts.push(`SELECT p.bucket_start AS ts, p.value, p.user_id ${fromRanges('visitor_presence', 'p', 'bucket_start', read.quarters, conditions, params)}`);
    }
    if (read.windows.length > 0) {
      const conditions = [`w.site_id = ${site}`, 'w.page_views + w.clicks + w.custom_events > 0'];
      parts.push(`SELECT w.window_start AS ts, ''::text AS value, w.user_id ${fromRanges('user_metrics', 'w', 'window_start', read.windows, conditions, params)}`);
    }
    const dims = q.dimensions.map((d, i) => `${d.kind === 'time' ? timeLabel('x.ts', d.unit, tz) : 'x.value'} AS d${i}`);
    // OFFSET 0 plans the rows apart from the DISTINCT: otherwise the planner may walk the
    // (site_id, user_id) index for users in order and fetch every heap row, which is many times
    // slower than hashing what the range scan returns.
    const distinct = `SELECT DISTINCT ${[...dims, 'x.user_id'].join(', ')} FROM (SELECT * FROM (${parts.join(' UNION ALL ')}) y OFFSET 0) x`;
    sources.push({
      name: 'presence',
      metrics: presenceMetrics,
      sql: `SELECT ${[...dimNames, 'count(*)::numeric AS m_visitors'].join(', ')} FROM (${distinct}) u${groupBy(dimNames)}`,
    });
  }

  const ctes = `WITH ${sources.map((s) => `${s.name} AS (${s.sql})`).join(', ')}`;
  let sql: string;
  if (sources.length === 1) {
    // One source holds every metric, already one row per dimension values.
    const columns = [...dimNames, ...q.metrics.map((m) => `coalesce(m_${m}, 0) AS m_${m}`)];
    if (q.includeTotalRows) columns.push('count(*) OVER () AS total_rows');
    sql = `${ctes} SELECT ${columns.join(', ')} FROM ${sources[0]!.name}`;
  } else {
    // Each metric comes from one source: rows of equal dimension values are merged.
    const union = sources
      .map((s) => `SELECT ${[...dimNames, ...q.metrics.map((m) => (s.metrics.includes(m) ? `m_${m}` : `NULL::numeric AS m_${m}`))].join(', ')} FROM ${s.name}`)
      .join(' UNION ALL ');
    const columns = [...dimNames, ...q.metrics.map((m) => `coalesce(max(m_${m}), 0) AS m_${m}`)];
    if (q.includeTotalRows) columns.push('count(*) OVER () AS total_rows');
    sql = `${ctes} SELECT ${columns.join(', ')} FROM (${union}) u${groupBy(dimNames)}`;
  }
  if (dimNames.length > 0) {
    const column = (name: string) => {
      const i = q.dimensions.findIndex((d) => d.name === name);
      return i >= 0 ? `d${i}` : `m_${name}`;
    };
    const order = q.orderBy.map(([name, dir]) => `${column(name)} ${dir === 'asc' ? 'ASC' : 'DESC'}`);
    const used = new Set(q.orderBy.map(([name]) => column(name)));
    for (const d of dimNames) if (!used.has(d)) order.push(`${d} ASC`);
    sql += ` ORDER BY ${order.join(', ')}`;
  }
  sql += ` LIMIT ${params.add(q.limit, 'int8')} OFFSET ${params.add(q.offset, 'int8')}`;

  return { sql, params: params.values, dimensions: q.dimensions.map((d) => d.name), metrics: q.metrics, includeTotalRows: q.includeTotalRows, metricWarnings };
}

