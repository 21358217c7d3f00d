import type { Queryable } from './metrics-store.js';

/**
 * The contract's "Pipeline freshness": what every processor instance last published to
 * `processor_instances` (every 2 s), summed up for the whole pipeline, and the last exactness
 * audit (`reconcile_runs`, once that table exists). The SQL is in `readPipeline`; the rest is
 * pure and clock-free (ages come from the database's clock, which stamped `updated_at`).
 */

/** An instance whose row is older than this is listed as stale and left out of the totals. */
export const STALE_AFTER_MS = 15_000;

/** Amber from `amber` up, red from `red` up (both inclusive), in the figure's own unit. */
export interface Threshold {
  readonly amber: number;
  readonly red: number;
}

/** The figures that turn amber and red; rates have no thresholds. */
export interface FreshnessThresholds {
  /** Applies to p50 and p99 of event-to-visible latency. */
  readonly eventToVisibleMs: Threshold;
  readonly watermarkLagMs: Threshold;
  readonly consumerLag: Threshold;
  readonly checkpointAgeMs: Threshold;
}

export type Level = 'ok' | 'amber' | 'red';

export interface Figures {
  eventToVisibleMs: { p50: number | null; p99: number | null };
  watermarkLagMs: number | null;
  consumerLag: number | null;
  checkpointAgeMs: number | null;
  eventsInPerSec: number | null;
  resultsOutPerSec: number | null;
}

export interface InstanceView extends Figures {
  instanceId: string;
  consumerGroup: string;
  partitions: number[];
  /** Latency samples behind p50/p99 (results made visible in the last minute). */
  samples: number;
  updatedAt: string;
  /** How long ago the instance last reported, by the database's clock. */
  ageMs: number;
  stale: boolean;
}

export interface ReconcileRunView {
  id: string;
  siteId: string;
  from: string;
  to: string;
  startedAt: string;
  finishedAt: string | null;
  /** null while the run is still going. */
  ok: boolean | null;
  summary: unknown;
}

export interface PipelineView {
  staleAfterMs: number;
  thresholds: FreshnessThresholds;
  total: Figures & { instances: number; level: Level };
  instances: InstanceView[];
  /** null when no run was recorded, or when this database has no reconcile_runs table yet. */
  lastReconcile: ReconcileRunView | null;
}

export interface InstanceRow {
  instance_id: string;
  consumer_group: string;
  partitions: number[] | null;
  freshness: unknown;
  updated_at: Date;
  age_ms: number | string;
}

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/** A row's freshness jsonb, read defensively: a field an older processor did not write is null. */
export function figuresOf(freshness: unknown): Figures & { samples: number } {
  const f = typeof freshness === 'object' && freshness !== null ? (freshness as Record<string, unknown>) : {};
  const latency = typeof f.eventToVisibleMs === 'object' && f.eventToVisibleMs !== null ? (f.eventToVisibleMs as Record<string, unknown>) : {};
  return {
    eventToVisibleMs: { p50: num(latency.p50), p99: num(latency.p99) },
    watermarkLagMs: num(f.watermarkLagMs),
    consumerLag: num(f.consumerLag),
    checkpointAgeMs: num(f.checkpointAgeMs),
    eventsInPerSec: num(f.eventsInPerSec),
    resultsOutPerSec: num(f.resultsOutPerSec),
    samples: num(latency.samples) ?? 0,
  };
}

function combine(values: Array<number | null>, how: 'max' | 'sum'): number | null {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return null;
  return how === 'max' ? Math.max(...present) : present.reduce((a, b) => a + b, 0);
}

export function levelOf(value: number | null, threshold: Threshold): Level {
  if (value === null) return 'ok';
  if (value >= threshold.red) return 'red';
  return value >= threshold.amber ? 'amber' : 'ok';
}

const worst = (levels: Level[]): Level => (levels.includes('red') ? 'red' : levels.includes('amber') ? 'amber' : 'ok');

/**
 * Totals over the live instances: latency p50 and p99 are the maxima of the instances' (a
 * percentile of merged samples cannot be rebuilt from per-instance percentiles; the maximum is an
 * upper bound), watermark lag and checkpoint age the maxima, consumer lag and rates the sums.
 * With no live instance every figure is null and the level red: nothing is being processed.
 */
export function summarise(rows: readonly InstanceRow[], thresholds: FreshnessThresholds, staleAfterMs = STALE_AFTER_MS): Omit<PipelineView, 'lastReconcile'> {
  const instances: InstanceView[] = rows.map((row) => {
    const ageMs = Math.max(0, Math.round(Number(row.age_ms)));
    return {
      instanceId: row.instance_id,
      consumerGroup: row.consumer_group,
      partitions: [...(row.partitions ?? [])].sort((a, b) => a - b),
      ...figuresOf(row.freshness),
      updatedAt: row.updated_at.toISOString(),
      ageMs,
      stale: ageMs > staleAfterMs,
    };
  });
  instances.sort((a, b) => Number(a.stale) - Number(b.stale) || a.instanceId.localeCompare(b.instanceId));
  const live = instances.filter((i) => !i.stale);
  const figures: Figures = {
    eventToVisibleMs: {
      p50: combine(live.map((i) => i.eventToVisibleMs.p50), 'max'),
      p99: combine(live.map((i) => i.eventToVisibleMs.p99), 'max'),
    },
    watermarkLagMs: combine(live.map((i) => i.watermarkLagMs), 'max'),
    consumerLag: combine(live.map((i) => i.consumerLag), 'sum'),
    checkpointAgeMs: combine(live.map((i) => i.checkpointAgeMs), 'max'),
    eventsInPerSec: combine(live.map((i) => i.eventsInPerSec), 'sum'),
    resultsOutPerSec: combine(live.map((i) => i.resultsOutPerSec), 'sum'),
  };
  const level: Level =
    live.length === 0
      ? 'red'
      : worst([
          levelOf(figures.eventToVisibleMs.p50, thresholds.eventToVisibleMs),
          levelOf(figures.eventToVisibleMs.p99, thresholds.eventToVisibleMs),
          levelOf(figures.watermarkLagMs, thresholds.watermarkLagMs),
          levelOf(figures.consumerLag, thresholds.consumerLag),
          levelOf(figures.checkpointAgeMs, thresholds.checkpointAgeMs),
        ]);
  return { staleAfterMs, thresholds, total: { ...figures, instances: live.length, level }, instances };
}

/** Rows of instances gone for longer than this are not listed at all (an instance that died). */
const FORGET_AFTER_MS = 10 * 60_000;

export async function readPipeline(db: Queryable, thresholds: FreshnessThresholds): Promise<PipelineView> {
  const [instances, lastReconcile] = await Promise.all([
    db.query<InstanceRow>(
      `SELECT instance_id, consumer_group, partitions, freshness, updated_at,
              extract(epoch FROM (clock_timestamp() - updated_at)) * 1000 AS age_ms
         FROM processor_instances
        WHERE updated_at > clock_timestamp() - make_interval(secs => $1::float8 / 1000)
        ORDER BY instance_id`,
      [FORGET_AFTER_MS],
    ),
    lastReconcileRun(db),
  ]);
  return { ...summarise(instances.rows, thresholds), lastReconcile };
}

/** The newest exactness audit (`pnpm reconcile`, any site); null without a run or without the table. */
export async function lastReconcileRun(db: Queryable): Promise<ReconcileRunView | null> {
  const { rows: exists } = await db.query<{ present: boolean }>(`SELECT to_regclass('reconcile_runs') IS NOT NULL AS present`);
  if (!exists[0]?.present) return null;
  const { rows } = await db.query<{
    id: unknown;
    site_id: string;
    range_from: Date;
    range_to: Date;
    started_at: Date;
    finished_at: Date | null;
    ok: boolean | null;
    summary: unknown;
  }>(`SELECT id, site_id, range_from, range_to, started_at, finished_at, ok, summary FROM reconcile_runs ORDER BY finished_at DESC NULLS FIRST, id DESC LIMIT 1`);
  const r = rows[0];
  if (!r) return null;
  return {
    id: String(r.id),
    siteId: r.site_id,
    from: r.range_from.toISOString(),
    to: r.range_to.toISOString(),
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
    ok: r.finished_at ? r.ok : null,
    summary: r.summary ?? null,
  };
}
