/**
 * Pure model of the site overview: ranges and their previous periods, filters, which queries the
 * stats API (POST /api/v1/query, Plausible's v2 shape) can answer exactly under the filters, the
 * change against the previous period, and CSV. No React, no I/O: the clock and the time zone are
 * arguments.
 */

export const OVERVIEW_RANGES = Object.freeze({
  realtime: { label: 'Live', title: 'the last 5 minutes' },
  day: { label: 'Today', title: 'today' },
  '24h': { label: '24 h', title: 'the last 24 hours' },
  '7d': { label: '7 days', title: 'the last 7 days' },
  '30d': { label: '30 days', title: 'the last 30 days' },
  custom: { label: 'Custom', title: 'the chosen days' },
} as const);

export type OverviewRangeKey = keyof typeof OVERVIEW_RANGES;
export const OVERVIEW_RANGE_KEYS = Object.keys(OVERVIEW_RANGES) as OverviewRangeKey[];
export const DEFAULT_RANGE: OverviewRangeKey = 'day';

export function isOverviewRange(value: unknown): value is OverviewRangeKey {
  return typeof value === 'string' && Object.hasOwn(OVERVIEW_RANGES, value);
}

export interface RangeChoice {
  key: OverviewRangeKey;
  /** Custom ranges: whole days, YYYY-MM-DD, both included. */
  from?: string;
  to?: string;
}

export type TimeBucket = 'minute' | 'hour' | 'day';
export type DateRange = string | [string, string];

export interface ResolvedRange {
  /** What goes into the query's date_range. */
  dateRange: DateRange;
  /** [from, to) in ms; `to` may lie in the future (today, the last 7 days). */
  from: number;
  to: number;
  bucket: TimeBucket;
}

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const ceilTo = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;

/** Local midnight of the day `offsetDays` from `now`'s day, in the browser's time zone. */
function localMidnight(now: number, offsetDays: number): number {
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + offsetDays).getTime();
}

export function localDate(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function parseLocalDate(text: string | undefined): number | undefined {
  const m = text ? DATE.exec(text) : null;
  if (!m) return undefined;
  const at = new Date(+m[1]!, +m[2]! - 1, +m[3]!);
  return localDate(at.getTime()) === text ? at.getTime() : undefined;
}

/** A custom range's days, valid and in order, or undefined. */
export function customDays(choice: RangeChoice): { from: string; to: string } | undefined {
  const a = parseLocalDate(choice.from);
  const b = parseLocalDate(choice.to);
  if (a === undefined || b === undefined || a > b) return undefined;
  return { from: choice.from!, to: choice.to! };
}

/**
 * The date_range and bounds of a choice at `now`. The last 24 hours end at the next quarter hour,
 * so that visitors by page stay exact (the stats API counts them per quarter hour); days are the
 * browser's, and the query names the browser's time zone.
 */
export function resolveRange(choice: RangeChoice, now: number): ResolvedRange {
  switch (choice.key) {
    case 'realtime': {
      const to = Math.floor(now / MINUTE) * MINUTE + MINUTE;
      return { dateRange: 'realtime', from: to - 5 * MINUTE, to, bucket: 'minute' };
    }
    case '24h': {
      const to = ceilTo(now + 1, QUARTER);
      return { dateRange: [new Date(to - DAY).toISOString(), new Date(to).toISOString()], from: to - DAY, to, bucket: 'hour' };
    }
    case '7d':
      return { dateRange: '7d', from: localMidnight(now, -6), to: localMidnight(now, 1), bucket: 'day' };
    case '30d':
      return { dateRange: '30d', from: localMidnight(now, -29), to: localMidnight(now, 1), bucket: 'day' };
    case 'custom': {
      const days = customDays(choice);
      if (days) {
        const from = parseLocalDate(days.from)!;
        const last = parseLocalDate(days.to)!;
        const to = new Date(new Date(last).getFullYear(), new Date(last).getMonth(), new Date(last).getDate() + 1).getTime();
        return { dateRange: [days.from, days.to], from, to, bucket: to - from <= 2 * DAY + HOUR ? 'hour' : 'day' };
      }
      return resolveRange({ key: 'day' }, now);
    }
    case 'day':
    default:
      return { dateRange: 'day', from: localMidnight(now, 0), to: localMidnight(now, 1), bucket: 'hour' };
  }
}

/**
 * The period to compare with: as long as the range, just before it, and cut at the same point
 * as the part of the range that has happened (today until now compares with yesterday until the
 * same time, rounded up to the quarter hour). Realtime compares with the 5 minutes before.
 */
export function previousPeriod(range: ResolvedRange, now: number): [string, string] {
  const length = range.to - range.from;
  const elapsedEnd = range.dateRange === 'realtime' ? range.to : Math.min(range.to, Math.max(range.from + MINUTE, ceilTo(now + 1, QUARTER)));
  return [new Date(range.from - length).toISOString(), new Date(elapsedEnd - length).toISOString()];
}

// ---------------------------------------------------------------- filters

export interface Filter {
  op: 'is';
  dimension: string;
  value: string;
}

export const DIMENSION_LABELS: Readonly<Record<string, string>> = Object.freeze({
  'event:page': 'Page',
  'visit:entry_page': 'Entry page',
  'visit:exit_page': 'Exit page',
  'visit:source': 'Source',
  'visit:utm_source': 'UTM source',
  'visit:utm_medium': 'UTM medium',
  'visit:utm_campaign': 'UTM campaign',
  'visit:browser': 'Browser',
  'visit:os': 'OS',
  'visit:device': 'Device',
  'visit:country': 'Country',
  'event:name': 'Event',
});

export function dimensionLabel(dimension: string): string {
  if (dimension.startsWith('event:props:')) return `Property ${dimension.slice('event:props:'.length)}`;
  return DIMENSION_LABELS[dimension] ?? dimension;
}

const FILTERABLE = /^(visit:(entry_page|exit_page|source|utm_source|utm_medium|utm_campaign|browser|os|device|country)|event:(page|name)|event:props:[^\u0000]{1,128})$/;

export function isFilterable(dimension: string): boolean {
  return FILTERABLE.test(dimension);
}

/** Adds a filter, replacing any earlier one on the same dimension. */
export function withFilter(filters: readonly Filter[], filter: Filter): Filter[] {
  return [...filters.filter((f) => f.dimension !== filter.dimension), filter];
}

export function withoutFilter(filters: readonly Filter[], dimension: string): Filter[] {
  return filters.filter((f) => f.dimension !== dimension);
}

export const toQueryFilters = (filters: readonly Filter[]) => filters.map((f) => [f.op, f.dimension, [f.value]]);

const isEventDimension = (d: string) => d.startsWith('event:');
const isVisitDimension = (d: string) => d.startsWith('visit:');
const VISIT_METRICS = new Set(['visits', 'bounce_rate', 'visit_duration', 'views_per_visit']);

/**
 * Why the stats API cannot answer this combination exactly, or undefined when it can. The
 * same rules as the API's 400s: per-visit data knows a visit's first page, source and device but
 * not every page it saw, and event aggregates know pages and names but not visits.
 */
export function unanswerable(metrics: readonly string[], dimensions: readonly string[], filters: readonly Filter[]): string | undefined {
  const names = [...dimensions.filter((d) => !d.startsWith('time:')), ...filters.map((f) => f.dimension)];
  const eventNames = [...new Set(names.filter(isEventDimension))];
  const visitNames = names.filter(isVisitDimension);
  const eventFilter = filters.find((f) => isEventDimension(f.dimension));
  if (eventNames.length > 0 && visitNames.length > 0) {
    return `${dimensionLabel(eventNames[0]!)} and ${dimensionLabel(visitNames[0]!).toLowerCase()} cannot be combined`;
  }
  if (eventNames.length > 1) return `${dimensionLabel(eventNames[0]!)} and ${dimensionLabel(eventNames[1]!).toLowerCase()} cannot be combined`;
  const visitMetric = metrics.find((m) => VISIT_METRICS.has(m));
  if (eventNames.length > 0 && visitMetric) return `${METRIC_LABELS[visitMetric] ?? visitMetric} is not split by ${dimensionLabel(eventNames[0]!).toLowerCase()}`;
  if (metrics.includes('events') && visitNames.length > 0) return `events are not split by ${dimensionLabel(visitNames[0]!).toLowerCase()}`;
  if (dimensions.includes('time:minute') && metrics.includes('visitors') && eventFilter) return 'visitors per minute are not split by event';
  return undefined;
}

// ---------------------------------------------------------------- figures

export const METRIC_LABELS: Readonly<Record<string, string>> = Object.freeze({
  visitors: 'Unique visitors',
  visits: 'Visits',
  pageviews: 'Page views',
  views_per_visit: 'Views per visit',
  bounce_rate: 'Bounce rate',
  visit_duration: 'Visit duration',
  events: 'Events',
});

export const KPI_METRICS = ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration'] as const;
export type KpiMetric = (typeof KPI_METRICS)[number];

export function formatMetric(metric: string, value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  switch (metric) {
    case 'bounce_rate':
      return `${Math.round(value)}%`;
    case 'visit_duration': {
      const s = Math.round(value);
      if (s < 60) return `${s}s`;
      const m = Math.floor(s / 60);
      return m < 60 ? `${m}m ${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
    }
    case 'views_per_visit':
      return value.toFixed(2);
    default:
      return value >= 10_000 ? `${(value / 1000).toFixed(1)}k` : Math.round(value).toLocaleString('en-US');
  }
}

const RATE_METRICS = new Set(['bounce_rate', 'visit_duration', 'views_per_visit']);

export interface Change {
  text: string;
  /** Whether the change is good news: more visitors, a lower bounce rate. */
  tone: 'good' | 'bad' | 'neutral';
}

/**
 * Change against the previous period: percent for counts and averages, percentage points for
 * the bounce rate (a rate of a rate says little). Nothing to compare with gives undefined, and so
 * does a rate (bounce rate, duration, views per visit) when the previous period had no visits.
 */
export function changeOf(metric: string, current: number | undefined, previous: number | undefined, previousVisits?: number): Change | undefined {
  if (current === undefined || previous === undefined) return undefined;
  // A rate over no visits is no figure: nothing to compare with.
  if (RATE_METRICS.has(metric) && previousVisits === 0) return undefined;
  let delta: number;
  let text: string;
  if (metric === 'bounce_rate') {
    delta = Math.round(current) - Math.round(previous);
    text = `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${Math.abs(delta)} pp`;
  } else {
    if (previous === 0) return current === 0 ? { text: '±0%', tone: 'neutral' } : { text: 'new', tone: 'good' };
    delta = Math.round(((current - previous) / previous) * 100);
    text = `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${Math.abs(delta)}%`;
  }
  const better = metric === 'bounce_rate' ? delta < 0 : delta > 0;
  return { text, tone: delta === 0 ? 'neutral' : better ? 'good' : 'bad' };
}

// ---------------------------------------------------------------- CSV

function csvCell(value: string | number): string {
  let text = String(value);
  // A cell a spreadsheet would run as a formula is quoted as text.
  if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== String(value) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** RFC 4180 CSV with a header row; CRLF line ends. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** A file name for a panel's export: site, panel, range, all safe for any file system. */
export function csvFileName(siteId: string, panel: string, range: ResolvedRange): string {
  const day = (ms: number) => localDate(ms);
  const span = range.to - range.from <= DAY ? day(range.from) : `${day(range.from)}_${day(range.to - 1)}`;
  return `${siteId}-${panel}-${span}.csv`.replace(/[^A-Za-z0-9._-]+/g, '-');
}

// ---------------------------------------------------------------- time series

export interface TimeBucketLabel {
  /** As the stats API labels a time:minute / time:hour / time:day bucket (wall clock of the zone). */
  key: string;
  /** For the chart's axis. */
  label: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Every bucket of the range up to the one holding `now`, in the browser's time zone, so that the
 * chart has no holes where nothing happened.
 */
export function timeBuckets(range: ResolvedRange, now: number): TimeBucketLabel[] {
  const out: TimeBucketLabel[] = [];
  const end = Math.min(range.to, now + 1);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (range.bucket === 'day') {
    const start = new Date(range.from);
    for (let i = 0; i < 3700; i += 1) {
      const day = new Date(start.getFullYear(), start.getMonth(), start.getDate() + i);
      if (day.getTime() >= end) break;
      out.push({ key: localDate(day.getTime()), label: `${day.getDate()} ${MONTHS[day.getMonth()]}` });
    }
    return out;
  }
  const minutes = range.bucket === 'minute';
  const first = new Date(range.from);
  for (let i = 0; out.length < 10_000; i += 1) {
    // Local wall-clock steps: a day with a DST change has 23 or 25 hours, as the API buckets it.
    const d = minutes
      ? new Date(first.getFullYear(), first.getMonth(), first.getDate(), first.getHours(), first.getMinutes() + i)
      : new Date(first.getFullYear(), first.getMonth(), first.getDate(), first.getHours() + i);
    if (d.getTime() >= end) break;
    const clock = `${pad(d.getHours())}:${pad(minutes ? d.getMinutes() : 0)}`;
    out.push({ key: `${localDate(d.getTime())} ${clock}:00`, label: clock });
  }
  return out;
}
