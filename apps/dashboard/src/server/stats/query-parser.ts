import { DAY_MS, MINUTE_MS, floorTo, isTimeZone, isoInZone, localFields, startOfLocalDay, wallToInstant } from './zoned-time.js';

/**
 * Validation of a `POST /api/v1/query` body (Plausible's Stats API v2 shape) into a normalised
 * query with its time range resolved. Pure: the clock is an argument. Every refusal is a
 * QueryError whose message names the field.
 */

export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

export const METRICS = ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration', 'events'] as const;
export type Metric = (typeof METRICS)[number];

/** Visit dimensions and the user_sessions column each one reads: the only names SQL ever gets. */
export const VISIT_COLUMNS = Object.freeze({
  'visit:entry_page': 'entry_page',
  'visit:exit_page': 'exit_page',
  'visit:source': 'source',
  'visit:utm_source': 'utm_source',
  'visit:utm_medium': 'utm_medium',
  'visit:utm_campaign': 'utm_campaign',
  'visit:browser': 'browser',
  'visit:os': 'os',
  'visit:device': 'device_type',
  'visit:country': 'country',
} as const);
export type VisitDimensionName = keyof typeof VISIT_COLUMNS;

export const EVENT_DIMENSIONS = ['event:page', 'event:name'] as const;
export const PROPS_PREFIX = 'event:props:';
export const TIME_UNITS = ['minute', 'hour', 'day'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];

export type Dimension =
  | { name: string; kind: 'visit'; column: (typeof VISIT_COLUMNS)[VisitDimensionName] }
  /** `key` is the `dimension` of site_stats_* and visitor_presence rows. */
  | { name: string; kind: 'event'; key: string }
  | { name: string; kind: 'time'; unit: TimeUnit };

export const FILTER_OPERATORS = ['is', 'is_not', 'contains'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export interface Filter {
  op: FilterOperator;
  dimension: Dimension;
  values: string[];
  caseSensitive: boolean;
}

export const DATE_RANGE_NAMES = ['day', '7d', '30d', 'month', 'realtime'] as const;

export interface ResolvedRange {
  /** Inclusive start and exclusive end, ms since the epoch, whole minutes. */
  from: number;
  to: number;
}

export interface StatsQuery {
  siteId: string;
  metrics: Metric[];
  /** As given: a name or a pair of dates or date-times. */
  dateRange: string | [string, string];
  timezone: string;
  range: ResolvedRange;
  dimensions: Dimension[];
  filters: Filter[];
  /** Resolved: Plausible's default when none was given. */
  orderBy: Array<[string, 'asc' | 'desc']>;
  limit: number;
  offset: number;
  includeTotalRows: boolean;
  /** Filters as given, for the echo. */
  rawFilters: unknown[];
}

export const MAX_LIMIT = 10_000;
export const MAX_RANGE_DAYS = 3660;
export const MAX_MINUTE_RANGE_DAYS = 7;
const MAX_FILTER_VALUES = 100;
const MAX_VALUE_LENGTH = 2048;
const MAX_PROP_KEY_LENGTH = 128;
const FIELDS = ['site_id', 'metrics', 'date_range', 'timezone', 'dimensions', 'filters', 'order_by', 'pagination', 'include'];
const REALTIME_MINUTES = 5;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const quote = (v: unknown) => JSON.stringify(v)?.slice(0, 80) ?? String(v);

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new QueryError(`${where}unknown field ${quote(key)}; the fields are ${allowed.join(', ')}`);
  }
}

/** A dimension name, or a QueryError naming `field`. */
export function parseDimension(name: unknown, field: string): Dimension {
  if (typeof name !== 'string') throw new QueryError(`${field} must be a dimension name (a string)`);
  if (name in VISIT_COLUMNS) return { name, kind: 'visit', column: VISIT_COLUMNS[name as VisitDimensionName] };
  if ((EVENT_DIMENSIONS as readonly string[]).includes(name)) return { name, kind: 'event', key: name };
  if (name.startsWith(PROPS_PREFIX)) {
    const key = name.slice(PROPS_PREFIX.length);
    if (key.length === 0 || key.length > MAX_PROP_KEY_LENGTH || key.includes('\u0000')) {
      throw new QueryError(`${field}: ${quote(name)} needs a property name of 1-${MAX_PROP_KEY_LENGTH} characters after event:props:`);
    }
    return { name, kind: 'event', key: name };
  }
  if (name.startsWith('time:') && (TIME_UNITS as readonly string[]).includes(name.slice(5))) {
    return { name, kind: 'time', unit: name.slice(5) as TimeUnit };
  }
  throw new QueryError(
    `${field}: unknown dimension ${quote(name)}; use one of ${[...Object.keys(VISIT_COLUMNS), ...EVENT_DIMENSIONS, `${PROPS_PREFIX}<key>`, 'time:minute', 'time:hour', 'time:day'].join(', ')}`,
  );
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/;

function checkCalendar(field: string, text: string, y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(wall);
  if (y < 1970 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new QueryError(`${field}: ${quote(text)} is not a date between 1970 and 9999`);
  }
  return wall;
}

function resolveRange(input: unknown, timeZone: string, now: number): ResolvedRange {
  const today = localFields(now, timeZone);
  const day = (offsetDays: number) => startOfLocalDay(today.year, today.month, today.day + offsetDays, timeZone);
  if (typeof input === 'string') {
    switch (input) {
      case 'day':
        return { from: day(0), to: day(1) };
      case '7d':
        return { from: day(-6), to: day(1) };
      case '30d':
        return { from: day(-29), to: day(1) };
      case 'month':
        return {
          from: startOfLocalDay(today.year, today.month, 1, timeZone),
          to: startOfLocalDay(today.year, today.month + 1, 1, timeZone),
        };
      case 'realtime': {
        const end = floorTo(now, MINUTE_MS) + MINUTE_MS;
        return { from: end - REALTIME_MINUTES * MINUTE_MS, to: end };
      }
      default:
        throw new QueryError(`date_range: unknown range ${quote(input)}; use ${DATE_RANGE_NAMES.join(', ')} or [from, to] as ISO-8601 dates or date-times`);
    }
  }
  if (!Array.isArray(input) || input.length !== 2 || typeof input[0] !== 'string' || typeof input[1] !== 'string') {
    throw new QueryError(`date_range must be one of ${DATE_RANGE_NAMES.join(', ')} or [from, to] as two ISO-8601 strings`);
  }
  const [a, b] = input as [string, string];
  const da = DATE.exec(a);
  const db = DATE.exec(b);
  if (da && db) {
    const wa = checkCalendar('date_range[0]', a, +da[1]!, +da[2]!, +da[3]!);
    const wb = checkCalendar('date_range[1]', b, +db[1]!, +db[2]!, +db[3]!);
    if (wa > wb) throw new QueryError(`date_range: the first date (${a}) is after the second (${b})`);
    return { from: wallToInstant(wa, timeZone), to: wallToInstant(wb + DAY_MS, timeZone) };
  }
  const instant = (text: string, field: string) => {
    const m = DATE_TIME.exec(text);
    if (!m) throw new QueryError(`${field}: ${quote(text)} is not an ISO-8601 date (2024-01-31) or date-time (2024-01-31T12:00:00+01:00); both ends must be of one kind`);
    const wall = checkCalendar(field, text, +m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
    const zone = m[7];
    if (zone === undefined) return wallToInstant(wall, timeZone);
    if (zone === 'Z') return wall;
    const sign = zone[0] === '-' ? -1 : 1;
    const [hh, mm] = zone.slice(1).split(':').map(Number) as [number, number];
    if (hh > 23 || mm > 59) throw new QueryError(`${field}: ${quote(text)} has an invalid UTC offset`);
    return wall - sign * (hh * 60 + mm) * MINUTE_MS;
  };
  return { from: instant(a, 'date_range[0]'), to: instant(b, 'date_range[1]') };
}

function parseFilter(raw: unknown, i: number): Filter {
  const field = `filters[${i}]`;
  if (!Array.isArray(raw) || raw.length < 3 || raw.length > 4) {
    throw new QueryError(`${field} must be [operator, dimension, [values...]] with an optional {"case_sensitive": false}`);
  }
  const [op, dim, values, modifiers] = raw as unknown[];
  if (typeof op !== 'string' || !(FILTER_OPERATORS as readonly string[]).includes(op)) {
    throw new QueryError(`${field}: operator ${quote(op)} is not supported; use ${FILTER_OPERATORS.join(', ')}`);
  }
  const dimension = parseDimension(dim, `${field}[1]`);
  if (dimension.kind === 'time') throw new QueryError(`${field}[1]: ${dimension.name} cannot be filtered; choose the time with date_range`);
  if (!Array.isArray(values) || values.length === 0 || values.length > MAX_FILTER_VALUES) {
    throw new QueryError(`${field}[2] must be a list of 1-${MAX_FILTER_VALUES} strings`);
  }
  values.forEach((v, j) => {
    if (typeof v !== 'string' || v.length > MAX_VALUE_LENGTH || v.includes('\u0000')) {
      throw new QueryError(`${field}[2][${j}] must be a string of at most ${MAX_VALUE_LENGTH} characters`);
    }
  });
  let caseSensitive = true;
  if (modifiers !== undefined) {
    if (!isObject(modifiers)) throw new QueryError(`${field}[3] must be an object like {"case_sensitive": false}`);
    checkKeys(modifiers, ['case_sensitive'], `${field}[3]: `);
    if (modifiers.case_sensitive !== undefined) {
      if (typeof modifiers.case_sensitive !== 'boolean') throw new QueryError(`${field}[3].case_sensitive must be true or false`);
      caseSensitive = modifiers.case_sensitive;
    }
  }
  return { op: op as FilterOperator, dimension, values: values as string[], caseSensitive };
}

function parseInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new QueryError(`${field} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Validates a request body and resolves its range at `now`; throws QueryError naming the field. */
export function parseStatsQuery(body: unknown, now: number): StatsQuery {
  if (!isObject(body)) throw new QueryError('the body must be a JSON object with site_id, metrics and date_range');
  checkKeys(body, FIELDS, '');

  const siteId = body.site_id;
  if (siteId === undefined) throw new QueryError('site_id is required');
  if (typeof siteId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(siteId)) {
    throw new QueryError('site_id must be 1-64 characters of A-Z a-z 0-9 . _ -');
  }

  if (body.metrics === undefined) throw new QueryError('metrics is required');
  if (!Array.isArray(body.metrics) || body.metrics.length === 0) throw new QueryError(`metrics must be a non-empty list of ${METRICS.join(', ')}`);
  const metrics: Metric[] = [];
  body.metrics.forEach((m, i) => {
    if (typeof m !== 'string' || !(METRICS as readonly string[]).includes(m)) {
      throw new QueryError(`metrics[${i}]: unknown metric ${quote(m)}; use ${METRICS.join(', ')}`);
    }
    if (metrics.includes(m as Metric)) throw new QueryError(`metrics[${i}]: ${m} is listed twice`);
    metrics.push(m as Metric);
  });

  let timezone = 'UTC';
  if (body.timezone !== undefined) {
    if (typeof body.timezone !== 'string' || !isTimeZone(body.timezone)) {
      throw new QueryError(`timezone: ${quote(body.timezone)} is not an IANA time zone name (e.g. Europe/Berlin, Asia/Kolkata, UTC)`);
    }
    timezone = body.timezone;
  }

  if (body.date_range === undefined) throw new QueryError(`date_range is required: ${DATE_RANGE_NAMES.join(', ')} or [from, to]`);
  const range = resolveRange(body.date_range, timezone, now);
  // Whole minutes: the finest rows the data has (site_stats_minute).
  range.from = floorTo(range.from, MINUTE_MS);
  range.to = floorTo(range.to, MINUTE_MS);
  if (range.to <= range.from) throw new QueryError('date_range: the range must end at least a minute after it starts');
  if (range.to - range.from > MAX_RANGE_DAYS * DAY_MS) throw new QueryError(`date_range spans more than ${MAX_RANGE_DAYS} days`);

  const dimensions: Dimension[] = [];
  if (body.dimensions !== undefined) {
    if (!Array.isArray(body.dimensions)) throw new QueryError('dimensions must be a list of dimension names');
    body.dimensions.forEach((d, i) => {
      const dim = parseDimension(d, `dimensions[${i}]`);
      if (dimensions.some((x) => x.name === dim.name)) throw new QueryError(`dimensions[${i}]: ${dim.name} is listed twice`);
      if (dim.kind === 'time' && dimensions.some((x) => x.kind === 'time')) throw new QueryError(`dimensions[${i}]: at most one time dimension`);
      dimensions.push(dim);
    });
  }
  const timeDim = dimensions.find((d) => d.kind === 'time');
  if (timeDim?.kind === 'time' && timeDim.unit === 'minute' && range.to - range.from > MAX_MINUTE_RANGE_DAYS * DAY_MS) {
    throw new QueryError(`dimensions: time:minute covers at most ${MAX_MINUTE_RANGE_DAYS} days; use time:hour or a shorter date_range`);
  }

  const filters: Filter[] = [];
  if (body.filters !== undefined) {
    if (!Array.isArray(body.filters)) throw new QueryError('filters must be a list of [operator, dimension, [values...]]');
    body.filters.forEach((f, i) => filters.push(parseFilter(f, i)));
  }

  let orderBy: Array<[string, 'asc' | 'desc']>;
  if (body.order_by !== undefined) {
    if (!Array.isArray(body.order_by) || body.order_by.length === 0) throw new QueryError('order_by must be a non-empty list of [metric or dimension, "asc" | "desc"]');
    orderBy = body.order_by.map((entry, i) => {
      if (!Array.isArray(entry) || entry.length !== 2) throw new QueryError(`order_by[${i}] must be [metric or dimension, "asc" | "desc"]`);
      const [name, dir] = entry as unknown[];
      if (typeof name !== 'string' || !(metrics.includes(name as Metric) || dimensions.some((d) => d.name === name))) {
        throw new QueryError(`order_by[${i}]: ${quote(name)} is neither a metric nor a dimension of this query`);
      }
      if (dir !== 'asc' && dir !== 'desc') throw new QueryError(`order_by[${i}]: direction ${quote(dir)} must be "asc" or "desc"`);
      return [name, dir];
    });
  } else {
    // Plausible's default: time ascending when grouped by time, then the first metric descending.
    orderBy = timeDim ? [[timeDim.name, 'asc'], [metrics[0]!, 'desc']] : [[metrics[0]!, 'desc']];
  }

  let limit = MAX_LIMIT;
  let offset = 0;
  if (body.pagination !== undefined) {
    if (!isObject(body.pagination)) throw new QueryError('pagination must be an object {"limit", "offset"}');
    checkKeys(body.pagination, ['limit', 'offset'], 'pagination: ');
    if (body.pagination.limit !== undefined) limit = parseInteger(body.pagination.limit, 'pagination.limit', 1, MAX_LIMIT);
    if (body.pagination.offset !== undefined) offset = parseInteger(body.pagination.offset, 'pagination.offset', 0, 1_000_000_000);
  }

  let includeTotalRows = false;
  if (body.include !== undefined) {
    if (!isObject(body.include)) throw new QueryError('include must be an object like {"total_rows": true}');
    checkKeys(body.include, ['total_rows', 'imports'], 'include: ');
    for (const [key, value] of Object.entries(body.include)) {
      if (typeof value !== 'boolean') throw new QueryError(`include.${key} must be true or false`);
    }
    includeTotalRows = body.include.total_rows === true;
  }

  return {
    siteId,
    metrics,
    dateRange: body.date_range as string | [string, string],
    timezone,
    range,
    dimensions,
    filters,
    orderBy,
    limit,
    offset,
    includeTotalRows,
    rawFilters: (body.filters as unknown[] | undefined) ?? [],
  };
}

/** The resolved range as Plausible echoes it: ISO-8601 in the query's zone; `to` is exclusive. */
export function echoRange(q: Pick<StatsQuery, 'range' | 'timezone'>): [string, string] {
  return [isoInZone(q.range.from, q.timezone), isoInZone(q.range.to, q.timezone)];
}
