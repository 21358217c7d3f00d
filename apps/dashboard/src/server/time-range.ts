import { DashboardError } from './errors.js';

export const DEFAULT_RANGE_MS = 15 * 60 * 1000;
export const DAY_MS = 24 * 60 * 60 * 1000;

// Dates PostgreSQL and JavaScript both represent exactly.
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31);

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Parses a time parameter: ISO-8601 or milliseconds since the epoch. */
export function parseTime(name: string, raw: string): number {
  const text = raw.trim();
  let ms: number;
  if (/^\d{1,15}$/.test(text)) ms = Number(text);
  else if (ISO_8601.test(text) && isCalendarDate(text)) ms = Date.parse(text.replace(' ', 'T'));
  else ms = Number.NaN;
  if (!Number.isFinite(ms)) throw new DashboardError('INVALID_TIME', `${name}: "${raw.slice(0, 64)}" is not ISO-8601 or milliseconds since the epoch`);
  if (ms < MIN_TIME || ms > MAX_TIME) throw new DashboardError('INVALID_TIME', `${name}: ${raw.slice(0, 64)} is outside 1970..9999`);
  return ms;
}

// Date.parse rolls 2024-02-30 over to March 1st; a date that does not exist is a typo.
function isCalendarDate(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/**
 * `from`/`to` of a query: `to` defaults to now and `from` to 15 minutes before `to`. `from` must
 * come before `to` and the span may not exceed `maxSpanMs`.
 */
export function resolveRange(query: { from?: string; to?: string }, now: number, maxSpanMs: number): TimeRange {
  const toGiven = query.to !== undefined ? parseTime('to', query.to) : undefined;
  const fromGiven = query.from !== undefined ? parseTime('from', query.from) : undefined;
  const to = toGiven ?? now;
  const from = fromGiven ?? to - DEFAULT_RANGE_MS;
  if (from >= to) throw new DashboardError('INVALID_RANGE', `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`);
  if (to - from > maxSpanMs) {
    throw new DashboardError('INVALID_RANGE', `from..to spans more than ${formatSpan(maxSpanMs)}; ask for a shorter range`);
  }
  return { from, to };
}

function formatSpan(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS} day${ms === DAY_MS ? '' : 's'}`;
  return `${Math.round(ms / 60_000)} minutes`;
}
