/**
 * The audit's result for one site: counts per sink, example lines, what was left out and why. It
 * is printed by the CLI, stored as `reconcile_runs.summary` (jsonb) for the dashboard, and
 * returned by `reconcile()`.
 */
import { differences, emptyTally, type EngagedBelow, type Tally } from './comparison.js';
import type { OperatorSettings } from './settings.js';

/** The sinks compared, in the order they are printed. */
export const CHECKS = [
  'user_metrics',
  'user-metrics',
  'user_sessions',
  'user-sessions',
  'site_stats_minute',
  'site_stats_hour',
  'site_stats_day',
  'visitor_presence',
  'website-clicks-late',
] as const;
export type CheckName = (typeof CHECKS)[number];

export interface ReconcileSummary {
  version: 1;
  siteId: string;
  /** The audited event-time range, ISO-8601: [from, to). */
  range: { from: string; to: string };
  ok: boolean;
  /** Why nothing (or not everything) could be compared: the processor has not caught up, … */
  error?: string;
  /**
   * Per sink: entries equal to the reference (`matching`), present with other values
   * (`different`), expected but absent (`missing`), present but not expected (`extra`), and up to
   * five example lines of each difference. `website-clicks-late` counts event ids: counted xor
   * on the late topic (matching), both (different), neither (missing).
   */
  checks: Record<CheckName, Tally>;
  /** Windows holding less engaged time than the reference: allowed, see README "Exactness audit". */
  engagedBelowReference: EngagedBelow;
  /** Windows, visits and buckets in the range that are not final yet, so were not compared. */
  notCompared: { windows: number; visits: number; buckets: number };
  read: {
    /** website-clicks records read (every site; the watermark is per partition). */
    records: number;
    /** Record timestamp the read started at: from − SESSION_GAP_MS − ALLOWED_LATENESS_MS − margin. */
    fromTimestamp: string;
    partitions: number;
    erasures: number;
    erasedEvents: number;
    lateIds: number;
  };
  settings: OperatorSettings & { engagement: 'exact' | 'at-most' };
  startedAt: string;
  finishedAt: string;
}

export function emptyChecks(): Record<CheckName, Tally> {
  return Object.fromEntries(CHECKS.map((c) => [c, emptyTally()])) as Record<CheckName, Tally>;
}

export const summaryDifferences = (s: Pick<ReconcileSummary, 'checks'>): number => CHECKS.reduce((n, c) => n + differences(s.checks[c]), 0);

const num = (n: number) => n.toLocaleString('en-US');

/** The summary as the CLI prints it. */
export function formatSummary(s: ReconcileSummary): string {
  const lines = [
    `site ${s.siteId}, ${s.range.from} – ${s.range.to}`,
    `read ${num(s.read.records)} website-clicks records of ${s.read.partitions} partitions from ${s.read.fromTimestamp}; ` +
      `${s.read.erasures} erasure(s) replayed (${num(s.read.erasedEvents)} events dropped); ${num(s.read.lateIds)} ids on website-clicks-late`,
  ];
  if (s.error) lines.push(`NOT COMPARED: ${s.error}`);
  const width = 22;
  lines.push(`${''.padEnd(width)}${['matching', 'different', 'missing', 'extra'].map((h) => h.padStart(11)).join('')}`);
  for (const check of CHECKS) {
    const t = s.checks[check];
    const label = check === 'website-clicks-late' ? 'event ids (late topic)' : check;
    lines.push(`${label.padEnd(width)}${[t.matching, t.different, t.missing, t.extra].map((n) => num(n).padStart(11)).join('')}`);
  }
  for (const check of CHECKS) {
    const t = s.checks[check];
    for (const kind of ['different', 'missing', 'extra'] as const) {
      if (t[kind] === 0) continue;
      lines.push(`${check}: ${num(t[kind])} ${kind}, e.g.`);
      for (const example of t.examples[kind]) lines.push(`  ${example}`);
    }
  }
  if (s.engagedBelowReference.windows > 0) {
    lines.push(
      `engaged time: ${num(s.engagedBelowReference.windows)} window(s) hold ${num(s.engagedBelowReference.ms)} ms less than the reference ` +
        `(engagement spread into windows the live watermark had already purged; allowed, not a difference)`,
    );
  }
  const { windows, visits, buckets } = s.notCompared;
  if (windows + visits + buckets > 0) {
    lines.push(`not final yet, not compared: ${num(windows)} window(s), ${num(visits)} open visit(s), ${num(buckets)} rollup/presence row(s)`);
  }
  lines.push(s.ok ? 'result: everything matches' : `result: ${s.error ? 'incomplete' : `${num(summaryDifferences(s))} difference(s)`}`);
  return lines.join('\n');
}
