/**
 * Pure helpers of the freshness panel: the level of a figure under the thresholds the API sent
 * (the same rule as the server's: amber from `amber` up, red from `red` up), and display text.
 */
import type { Pipeline, PipelineFigures, Threshold } from './pipeline-types.js';

export type Level = 'ok' | 'amber' | 'red';

export function levelOf(value: number | null | undefined, threshold: Threshold | undefined): Level {
  if (value === null || value === undefined || !threshold) return 'ok';
  if (value >= threshold.red) return 'red';
  return value >= threshold.amber ? 'amber' : 'ok';
}

export interface FigureSpec {
  key: string;
  label: string;
  hint: string;
  value: (f: PipelineFigures) => number | null;
  threshold?: keyof Pipeline['thresholds'];
  format: (v: number) => string;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const formatCountFigure = (n: number) => Math.round(n).toLocaleString('en-US');
const formatRateFigure = (n: number) => `${n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1)}/s`;

/** The figures in the panel's order, with what each means. */
export const FIGURES: readonly FigureSpec[] = Object.freeze([
  {
    key: 'p50',
    label: 'Event → visible p50',
    hint: 'median time from the collector receiving an event to its result being readable (last minute)',
    value: (f) => f.eventToVisibleMs.p50,
    threshold: 'eventToVisibleMs',
    format: formatMs,
  },
  {
    key: 'p99',
    label: 'Event → visible p99',
    hint: '99th percentile of the same',
    value: (f) => f.eventToVisibleMs.p99,
    threshold: 'eventToVisibleMs',
    format: formatMs,
  },
  {
    key: 'watermarkLag',
    label: 'Watermark lag',
    hint: 'how far event time trails the clock: windows fire this late',
    value: (f) => f.watermarkLagMs,
    threshold: 'watermarkLagMs',
    format: formatMs,
  },
  { key: 'consumerLag', label: 'Consumer lag', hint: 'events in Kafka not yet read', value: (f) => f.consumerLag, threshold: 'consumerLag', format: formatCountFigure },
  {
    key: 'checkpointAge',
    label: 'Checkpoint age',
    hint: 'since the last exactly-once commit',
    value: (f) => f.checkpointAgeMs,
    threshold: 'checkpointAgeMs',
    format: formatMs,
  },
  { key: 'eventsIn', label: 'Events in', hint: 'events counted per second (last minute)', value: (f) => f.eventsInPerSec, format: formatRateFigure },
  { key: 'resultsOut', label: 'Results out', hint: 'window and visit results made visible per second', value: (f) => f.resultsOutPerSec, format: formatRateFigure },
]);

export function figureLevel(spec: FigureSpec, figures: PipelineFigures, pipeline: Pick<Pipeline, 'thresholds'>): Level {
  return levelOf(spec.value(figures), spec.threshold ? pipeline.thresholds[spec.threshold] : undefined);
}

/** What a threshold says, for a tooltip: "amber ≥ 5.00 s, red ≥ 15.0 s". */
export function thresholdText(spec: FigureSpec, pipeline: Pick<Pipeline, 'thresholds'>): string | undefined {
  if (!spec.threshold) return undefined;
  const t = pipeline.thresholds[spec.threshold];
  return `amber from ${spec.format(t.amber)}, red from ${spec.format(t.red)}`;
}

export interface AuditView {
  /** Summed over every sink compared (user_metrics, user-sessions, rollups, …). */
  totals: { matching: number; different: number; missing: number; extra: number } | undefined;
  /** The sinks that differ, with one example line each. */
  differing: Array<{ sink: string; different: number; missing: number; extra: number; example?: string }>;
  /** Why nothing (or not everything) was compared. */
  error?: string;
  notCompared?: number;
}

const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What `pnpm reconcile` stored as its summary (packages/reconcile's ReconcileSummary: `checks` per
 * sink with matching / different / missing / extra and example lines), read defensively.
 */
export function auditView(summary: unknown): AuditView {
  const view: AuditView = { totals: undefined, differing: [] };
  if (!isRecord(summary)) return view;
  if (typeof summary.error === 'string') view.error = summary.error;
  if (isRecord(summary.notCompared)) view.notCompared = Object.values(summary.notCompared).reduce<number>((n, v) => n + count(v), 0);
  if (!isRecord(summary.checks)) return view;
  const totals = { matching: 0, different: 0, missing: 0, extra: 0 };
  for (const [sink, raw] of Object.entries(summary.checks)) {
    if (!isRecord(raw)) continue;
    const t = { matching: count(raw.matching), different: count(raw.different), missing: count(raw.missing), extra: count(raw.extra) };
    totals.matching += t.matching;
    totals.different += t.different;
    totals.missing += t.missing;
    totals.extra += t.extra;
    if (t.different + t.missing + t.extra === 0) continue;
    const examples = isRecord(raw.examples) ? Object.values(raw.examples).flatMap((e) => (Array.isArray(e) ? e.filter((x) => typeof x === 'string') : [])) : [];
    view.differing.push({ sink, different: t.different, missing: t.missing, extra: t.extra, ...(examples[0] ? { example: String(examples[0]).slice(0, 300) } : {}) });
  }
  view.totals = totals;
  return view;
}
