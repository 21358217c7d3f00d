/**
 * Time zone arithmetic for the stats query API, from the platform's own Intl data (no tz library):
 * UTC offsets, local midnights (DST and +05:30 / +05:45 zones included) and the instants where a
 * local hour or day begins. Pure.
 */

export const MINUTE_MS = 60_000;
export const QUARTER_MS = 15 * MINUTE_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

// An IANA name (Europe/Berlin, America/Argentina/Buenos_Aires, UTC, Etc/GMT+5), never a bare
// offset: newer engines accept "+05:30" as a zone, and PostgreSQL reads such strings as POSIX
// zones with the sign inverted.
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+){0,2}$/;

/** Whether `name` is an IANA time zone this process knows. */
export function isTimeZone(name: string): boolean {
  if (name.length > 64 || !ZONE_NAME.test(name)) return false;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

export interface LocalFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Wall-clock fields of instant `t` in `timeZone` (to the second). */
export function localFields(t: number, timeZone: string): LocalFields {
  const out: LocalFields = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(new Date(t))) {
    if (part.type in out) out[part.type as keyof LocalFields] = Number(part.value);
  }
  return out;
}

/** The zone's UTC offset at instant `t`, in ms (local = UTC + offset). */
export function offsetAt(t: number, timeZone: string): number {
  const s = Math.floor(t / 1000) * 1000;
  const f = localFields(s, timeZone);
  return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second) - s;
}

/**
 * The instant at which the wall clock of `timeZone` shows `wall` (wall-clock fields encoded as if
 * UTC, e.g. Date.UTC(2024, 0, 31)). A wall time shown twice (autumn) is its first instant; one
 * skipped by a DST gap (spring) is shifted forward by the gap, so a day whose midnight is skipped
 * begins at the transition.
 */
export function wallToInstant(wall: number, timeZone: string): number {
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const candidates = [...new Set([before, after])].map((o) => wall - o).filter((t) => t + offsetAt(t, timeZone) === wall);
  if (candidates.length > 0) return Math.min(...candidates);
  return wall - before;
}

/** The start of local day `year-month-day` (month 1-12) in `timeZone`; `day` may overflow. */
export function startOfLocalDay(year: number, month: number, day: number, timeZone: string): number {
  return wallToInstant(Date.UTC(year, month - 1, day), timeZone);
}

/** ISO-8601 with the zone's offset at that instant: 2024-01-31T00:00:00+05:30. */
export function isoInZone(t: number, timeZone: string): string {
  const offset = offsetAt(t, timeZone);
  const local = new Date(Math.floor(t / 1000) * 1000 + offset).toISOString().slice(0, 19);
  const abs = Math.abs(Math.round(offset / MINUTE_MS));
  const sign = offset < 0 ? '-' : '+';
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export const floorTo = (t: number, unit: number) => Math.floor(t / unit) * unit;
export const ceilTo = (t: number, unit: number) => Math.ceil(t / unit) * unit;

/** The first whole minute in (lo, hi] at which the offset differs from `offset`; `hi` if none. */
function offsetChange(lo: number, hi: number, offset: number, timeZone: string): number {
  let a = floorTo(lo, MINUTE_MS);
  let b = ceilTo(hi, MINUTE_MS);
  if (offsetAt(b, timeZone) === offset) return hi;
  // Invariant: offset at a is `offset`, offset at b is not.
  while (b - a > MINUTE_MS) {
    const mid = floorTo(a + (b - a) / 2, MINUTE_MS);
    if (offsetAt(mid, timeZone) === offset) a = mid;
    else b = mid;
  }
  return b;
}

/**
 * The instants in (from, to) at which a local hour or day of `timeZone` begins, floored to whole
 * minutes, ascending. DST transitions inside an hour are included as well: the list may hold
 * more cuts than labels change at, never fewer, so a range split at every cut has no piece that
 * spans two buckets.
 */
export function bucketCuts(from: number, to: number, unit: 'hour' | 'day', timeZone: string): number[] {
  const cuts: number[] = [];
  let t = from;
  while (t < to) {
    const offset = offsetAt(t, timeZone);
    let next: number;
    if (unit === 'day') {
      const f = localFields(t, timeZone);
      next = startOfLocalDay(f.year, f.month, f.day + 1, timeZone);
    } else {
      next = (Math.floor((t + offset) / HOUR_MS) + 1) * HOUR_MS - offset;
      if (offsetAt(next - 1000, timeZone) !== offset) next = offsetChange(t, next, offset, timeZone);
    }
    next = floorTo(next, MINUTE_MS);
    if (next <= t) next = t + MINUTE_MS;
    if (next >= to) break;
    cuts.push(next);
    t = next;
  }
  return cuts;
}
