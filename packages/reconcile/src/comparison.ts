/**
 * Comparison of what the sinks hold with the reference model, one sink at a time, as a tally of
 * matching / different / missing / extra entries with readable lines for the differences. The
 * audit scopes each comparison (sites, range, final windows only); the processor's tests and the
 * chaos run compare everything and use the lines (`compareWithReference` and friends below).
 */
import type { VisitDeletionMarker, VisitResult, WindowDeletionMarker, WindowResult } from '@clickstream/shared';
import { referenceKey, type ReferenceOutput, type ReferenceVisit, type ReferenceWindow } from './reference-model.js';

export type DifferenceKind = 'different' | 'missing' | 'extra';

export interface Tally {
  matching: number;
  different: number;
  missing: number;
  extra: number;
  /** The first `limit` lines of each kind. */
  examples: Record<DifferenceKind, string[]>;
}

export function emptyTally(): Tally {
  return { matching: 0, different: 0, missing: 0, extra: 0, examples: { different: [], missing: [], extra: [] } };
}

/** Collects a tally; `limit` lines of each kind are kept. */
export class TallyBuilder {
  readonly tally = emptyTally();
  constructor(private readonly limit = 5) {}

  match(): void {
    this.tally.matching += 1;
  }

  add(kind: DifferenceKind, line: string): void {
    this.tally[kind] += 1;
    if (this.tally.examples[kind].length < this.limit) this.tally.examples[kind].push(line);
  }
}

export const differences = (t: Tally): number => t.different + t.missing + t.extra;

/** Every kept line of a tally, differences first by kind. */
export const linesOf = (t: Tally): string[] => [...t.examples.different, ...t.examples.missing, ...t.examples.extra];

/**
 * How engaged time is compared. `exact`: equal. `at-most`: a sink may hold less than the reference
 * but never more, because a live watermark that followed the wall clock can have purged a window
 * before an engagement interval reached it (that time is dropped and counted in a metric); a
 * missing window that would hold only spread engaged time (`events: 0`) is then no difference either.
 */
export type EngagementRule = 'exact' | 'at-most';

export interface EngagedBelow {
  /** Windows holding less engaged time than the reference (or missing engaged-only windows). */
  windows: number;
  ms: number;
}

const METRIC_FIELDS = ['events', 'pageViews', 'clicks', 'customEvents', 'uniquePages', 'engagedMs', 'sessions'] as const;
const VISIT_FIELDS = [
  'sessionEnd', 'durationMs', 'pageViews', 'events', 'entryPage', 'exitPage', 'source', 'utmSource', 'utmMedium',
  'utmCampaign', 'country', 'browser', 'os', 'deviceType', 'bounce', 'open',
] as const;

type WindowKey = Pick<WindowResult, 'siteId' | 'userId' | 'windowStart'>;
type VisitKey = Pick<VisitResult, 'siteId' | 'userId' | 'sessionStart'>;

export interface WindowScope {
  /** Whether a window (of the reference or of a sink) is compared at all; default every window. */
  inScope?: (window: WindowKey) => boolean;
  engagement?: EngagementRule;
  limit?: number;
}

/** Field differences of one window, as `field = actual, expected x` parts; engaged time per the rule. */
function windowFieldDiffs(actual: WindowResult, expected: ReferenceWindow, rule: EngagementRule, below: EngagedBelow): string[] {
  const parts: string[] = [];
  for (const field of METRIC_FIELDS) {
    if (actual[field] === expected[field]) continue;
    if (field === 'engagedMs' && rule === 'at-most' && actual.engagedMs < expected.engagedMs) {
      below.windows += 1;
      below.ms += expected.engagedMs - actual.engagedMs;
      continue;
    }
    parts.push(`${field} = ${actual[field]}, expected ${expected[field]}`);
  }
  return parts;
}

/** Windows in a table (`user_metrics`): each reference window against the row under its key. */
export function compareWindowRows(
  label: string,
  reference: ReadonlyMap<string, ReferenceWindow>,
  rows: ReadonlyMap<string, WindowResult>,
  scope: WindowScope = {},
): { tally: Tally; engagedBelow: EngagedBelow } {
  const t = new TallyBuilder(scope.limit);
  const rule = scope.engagement ?? 'exact';
  const below: EngagedBelow = { windows: 0, ms: 0 };
  const inScope = scope.inScope ?? (() => true);
  for (const [key, expected] of reference) {
    if (!inScope(expected)) continue;
    const row = rows.get(key);
    if (!row) {
      if (rule === 'at-most' && expected.events === 0) {
        below.windows += 1;
        below.ms += expected.engagedMs;
      } else t.add('missing', `${label} lacks ${key} (expected ${expected.events} events)`);
      continue;
    }
    const diffs = windowFieldDiffs(row, expected, rule, below);
    if (diffs.length === 0) t.match();
    else t.add('different', `${label} ${key}: ${diffs.join('; ')}`);
  }
  for (const [key, row] of rows) if (!reference.has(key) && inScope(row)) t.add('extra', `${label} has unexpected ${key} (${row.events} events)`);
  return { tally: t.tally, engagedBelow: below };
}

type WindowRecord = WindowResult | WindowDeletionMarker;
type VisitRecord = VisitResult | VisitDeletionMarker;

/**
 * Records of a keyed topic in topic order, deletion markers applied: per key, the records since
 * its last deletion marker. A (key, revision) that comes twice is a duplicate delivery, and
 * revisions must be 0..n.
 */
function liveRecords<R extends { revision: number }, M extends { deleted: true }>(records: Iterable<R | M>, keyOf: (r: R | M) => string | undefined): Map<string, R[]> {
  const byKey = new Map<string, R[]>();
  for (const record of records) {
    const key = keyOf(record);
    if (key === undefined) continue;
    if ('deleted' in record) {
      byKey.delete(key);
      continue;
    }
    const list = byKey.get(key) ?? [];
    list.push(record as R);
    byKey.set(key, list);
  }
  return byKey;
}

/** Duplicate or missing revisions of one key's live records, as a line part (empty when 0..n once each). */
function revisionProblem(records: ReadonlyArray<{ revision: number }>): string | undefined {
  const revisions = records.map((r) => r.revision).sort((a, b) => a - b);
  if (new Set(revisions).size !== revisions.length) return `duplicate records (revisions ${revisions.join(',')})`;
  if (revisions.some((r, i) => r !== i)) return `revisions are not 0..n (${revisions.join(',')})`;
  return undefined;
}

export interface RecordScope<K> {
  inScope?: (key: K) => boolean;
  /** Keys whose deletion markers are still pending (an erasure whose markers are not sent yet): not extra. */
  pendingDeletion?: (key: K) => boolean;
  limit?: number;
}

/**
 * Windows on `user-metrics` (read_committed, topic order): the last revision since the key's last
 * deletion marker against the reference, revisions unique and 0..n, and the table's revision the
 * same as the topic's.
 */
export function compareWindowRecords(
  label: string,
  reference: ReadonlyMap<string, ReferenceWindow>,
  records: Iterable<WindowRecord>,
  rows: ReadonlyMap<string, WindowResult>,
  scope: RecordScope<WindowKey> & { engagement?: EngagementRule } = {},
): Tally {
  const t = new TallyBuilder(scope.limit);
  const rule = scope.engagement ?? 'exact';
  const inScope = scope.inScope ?? (() => true);
  const byKey = liveRecords<WindowResult, WindowDeletionMarker>(records, (r) => (inScope(r) ? referenceKey(r.siteId, r.userId, r.windowStart) : undefined));
  for (const [key, expected] of reference) {
    if (!inScope(expected)) continue;
    const list = byKey.get(key);
    if (!list) {
      if (!(rule === 'at-most' && expected.events === 0)) t.add('missing', `${label} lacks ${key} (expected ${expected.events} events)`);
      continue;
    }
    const latest = list.reduce((a, b) => (b.revision > a.revision ? b : a));
    const parts = windowFieldDiffs(latest, expected, rule, { windows: 0, ms: 0 });
    const revisions = revisionProblem(list);
    if (revisions) parts.unshift(revisions);
    const row = rows.get(key);
    if (row && row.revision !== latest.revision) parts.push(`revision ${latest.revision}, user_metrics has ${row.revision}`);
    if (parts.length === 0) t.match();
    else t.add('different', `${label} ${key}: ${parts.join('; ')}`);
  }
  for (const [key, list] of byKey) {
    if (reference.has(key) || scope.pendingDeletion?.(list[0]!)) continue;
    t.add('extra', `${label} has unexpected ${key} (revision ${list[list.length - 1]!.revision})`);
  }
  return t.tally;
}

export interface VisitScope {
  inScope?: (visit: VisitKey & { open?: boolean }, source: 'reference' | 'sink') => boolean;
  limit?: number;
}

function visitFieldDiffs(actual: VisitResult, expected: ReferenceVisit): string[] {
  return VISIT_FIELDS.filter((f) => actual[f] !== expected[f]).map((f) => `${f} = ${actual[f]}, expected ${expected[f]}`);
}

/** Visits in a table (`user_sessions`) against the reference. */
export function compareVisitRows(label: string, reference: ReadonlyMap<string, ReferenceVisit>, rows: ReadonlyMap<string, VisitResult>, scope: VisitScope = {}): Tally {
  const t = new TallyBuilder(scope.limit);
  const inScope = scope.inScope ?? (() => true);
  for (const [key, expected] of reference) {
    if (!inScope(expected, 'reference')) continue;
    const row = rows.get(key);
    if (!row) {
      t.add('missing', `${label} lacks visit ${key}`);
      continue;
    }
    const diffs = visitFieldDiffs(row, expected);
    if (diffs.length === 0) t.match();
    else t.add('different', `${label} visit ${key}: ${diffs.join('; ')}`);
  }
  for (const [key, row] of rows) if (!reference.has(key) && inScope(row, 'sink')) t.add('extra', `${label} has unexpected visit ${key}`);
  return t.tally;
}

/**
 * Visits on `user-sessions` (read_committed, topic order, deletion markers applied) against the
 * reference; revisions of a visit unique and increasing; the table's revision the same.
 */
export function compareVisitRecords(
  label: string,
  reference: ReadonlyMap<string, ReferenceVisit>,
  records: Iterable<VisitRecord>,
  rows: ReadonlyMap<string, VisitResult>,
  scope: VisitScope & { pendingDeletion?: (key: VisitKey) => boolean } = {},
): Tally {
  const t = new TallyBuilder(scope.limit);
  const inScope = scope.inScope ?? (() => true);
  const latest = new Map<string, VisitResult>();
  const problems = new Map<string, string>();
  const seen = new Set<string>();
  for (const record of records) {
    const key = referenceKey(record.siteId, record.userId, record.sessionStart);
    if ('deleted' in record) {
      latest.delete(key);
      problems.delete(key);
      for (const id of [...seen]) if (id.startsWith(`${key}|`)) seen.delete(id);
      continue;
    }
    const id = `${key}|${record.revision}`;
    if (seen.has(id)) problems.set(key, `duplicate record of revision ${record.revision}`);
    seen.add(id);
    const before = latest.get(key);
    if (before && before.revision >= record.revision) problems.set(key, `revisions go back: ${before.revision} then ${record.revision}`);
    latest.set(key, record);
  }
  for (const [key, expected] of reference) {
    if (!inScope(expected, 'reference')) continue;
    const record = latest.get(key);
    if (!record) {
      t.add('missing', `${label} lacks visit ${key}`);
      continue;
    }
    const parts = visitFieldDiffs(record, expected);
    const problem = problems.get(key);
    if (problem) parts.unshift(problem);
    const row = rows.get(key);
    if (row && row.revision !== record.revision) parts.push(`revision ${record.revision}, user_sessions has ${row.revision}`);
    if (parts.length === 0) t.match();
    else t.add('different', `${label} visit ${key}: ${parts.join('; ')}`);
  }
  for (const [key, record] of latest) {
    if (reference.has(key) || !inScope(record, 'sink') || scope.pendingDeletion?.(record)) continue;
    t.add('extra', `${label} has unexpected visit ${key}`);
  }
  return t.tally;
}

export type SiteStat = { pageviews: number; events: number };

/**
 * Site rollup rows against the reference, keyed by siteStatKey. With `upper`, a row matches when
 * it lies between the reference and `upper` (site aggregates keep counts an erased user made
 * before the processor learned of the erasure, so those are allowed, not required).
 */
export function compareSiteStats(
  label: string,
  reference: ReadonlyMap<string, SiteStat>,
  rows: ReadonlyMap<string, SiteStat>,
  scope: { inScope?: (key: string) => boolean; upper?: ReadonlyMap<string, SiteStat>; limit?: number } = {},
): Tally {
  const t = new TallyBuilder(scope.limit);
  const inScope = scope.inScope ?? (() => true);
  const within = (value: number, low: number, high: number) => value >= low && value <= high;
  const zero = { pageviews: 0, events: 0 };
  for (const [key, expected] of reference) {
    if (!inScope(key)) continue;
    const row = rows.get(key);
    const high = scope.upper?.get(key) ?? expected;
    if (!row) {
      t.add('missing', `${label} lacks ${key} (expected ${expected.pageviews} pageviews / ${expected.events} events)`);
    } else if (within(row.pageviews, expected.pageviews, high.pageviews) && within(row.events, expected.events, high.events)) {
      t.match();
    } else {
      const range = (low: number, hi: number) => (low === hi ? `${low}` : `${low}..${hi}`);
      t.add('different', `${label} ${key} = ${row.pageviews} pageviews / ${row.events} events, expected ${range(expected.pageviews, high.pageviews)} / ${range(expected.events, high.events)}`);
    }
  }
  for (const [key, row] of rows) {
    if (reference.has(key) || !inScope(key)) continue;
    // Only an erased user's events made this row: allowed up to what they could have made.
    const high = scope.upper?.get(key) ?? zero;
    if (row.pageviews <= high.pageviews && row.events <= high.events && (high.events > 0 || high.pageviews > 0)) t.match();
    else t.add('extra', `${label} has unexpected ${key} (${row.pageviews} pageviews / ${row.events} events)`);
  }
  return t.tally;
}

/** Visitor presence rows (keyed by presenceKey) against the reference. */
export function comparePresence(label: string, reference: ReadonlySet<string>, rows: ReadonlySet<string>, scope: { inScope?: (key: string) => boolean; limit?: number } = {}): Tally {
  const t = new TallyBuilder(scope.limit);
  const inScope = scope.inScope ?? (() => true);
  for (const key of reference) {
    if (!inScope(key)) continue;
    if (rows.has(key)) t.match();
    else t.add('missing', `${label} lacks ${key}`);
  }
  for (const key of rows) if (!reference.has(key) && inScope(key)) t.add('extra', `${label} has unexpected ${key}`);
  return t.tally;
}

/**
 * Each event id against the late topic: an id the reference counted must not be on
 * website-clicks-late (`different`: counted and declared late), and one the reference found too
 * late by the log's own watermark must be there (`missing`); `ids` are the ids to check.
 */
export function compareLateIds(label: string, ids: Iterable<string>, reference: Pick<ReferenceOutput, 'countedIds'> & { lateIds: ReadonlySet<string> }, onLateTopic: ReadonlySet<string>, limit = 5): Tally {
  const t = new TallyBuilder(limit);
  for (const id of ids) {
    const counted = reference.countedIds.has(id);
    const declared = onLateTopic.has(id);
    if (counted && declared) t.add('different', `${label}: ${id} is counted in a window and on website-clicks-late`);
    else if (counted || declared) t.match();
    else if (reference.lateIds.has(id)) t.add('missing', `${label}: ${id} is too late but not on website-clicks-late`);
    else t.add('missing', `${label}: ${id} is neither counted nor on website-clicks-late`);
  }
  return t.tally;
}

// ---------------------------------------------------------------------------------------------
// Whole-sink checks as lines, for the processor's tests and the chaos run (no scope, exact).

/**
 * Every way the window sinks can differ from the reference, as readable lines: missing, extra or
 * wrong windows in PostgreSQL; on the topic, duplicate (key, revision) records, gaps in revisions,
 * a last revision that differs from the reference; late events lost or doubled.
 */
export function compareWithReference(reference: ReferenceOutput, rows: Map<string, WindowResult>, topicRecords: Array<WindowResult | WindowDeletionMarker>, lateIds: string[]): string[] {
  const limit = Number.MAX_SAFE_INTEGER;
  const problems = [
    ...linesOf(compareWindowRows('user_metrics', reference.windows, rows, { limit }).tally),
    ...linesOf(compareWindowRecords('user-metrics', reference.windows, topicRecords.filter((r) => r.siteId !== 'sentinel'), rows, { limit })),
  ];
  const expectedLate = [...reference.lateEventIds].sort();
  const actualLate = [...lateIds].sort();
  if (JSON.stringify(expectedLate) !== JSON.stringify(actualLate)) {
    problems.push(`website-clicks-late holds ${actualLate.length} events, expected ${expectedLate.length}`);
  }
  return problems;
}

/** Visits in `user_sessions` and on `user-sessions` (topic order, deletion markers applied) against the reference. */
export function compareVisitsWithReference(reference: ReferenceOutput, rows: Map<string, VisitResult>, records: VisitRecord[]): string[] {
  const limit = Number.MAX_SAFE_INTEGER;
  return [
    ...linesOf(compareVisitRows('user_sessions', reference.visits, rows, { limit })),
    ...linesOf(compareVisitRecords('user-sessions', reference.visits, records.filter((r) => r.siteId !== 'sentinel'), rows, { limit })),
  ];
}

/** The site rollups and presence rows against the reference, row by row. */
export function compareSiteAggregatesWithReference(reference: ReferenceOutput, actual: { stats: Map<string, SiteStat>; presence: Set<string> }): string[] {
  return [
    ...linesOf(compareSiteStats('site rollups', reference.siteStats, actual.stats, { limit: 50 })),
    ...linesOf(comparePresence('visitor_presence', reference.presence, actual.presence, { limit: 50 })),
  ].slice(0, 50);
}
