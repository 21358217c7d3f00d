/**
 * The audit's results in PostgreSQL (table reconcile_runs, migration 1796000000010): one row per
 * site and run. The dashboard reads the newest row per site with `latestReconcileRuns`.
 */
import type pg from 'pg';
import type { ReconcileSummary } from './report.js';

export interface ReconcileRun {
  id: number;
  siteId: string;
  rangeFrom: string;
  rangeTo: string;
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  summary: ReconcileSummary;
}

export async function storeReconcileRun(db: Pick<pg.ClientBase, 'query'>, summary: ReconcileSummary): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO reconcile_runs (site_id, range_from, range_to, started_at, finished_at, ok, summary)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [summary.siteId, summary.range.from, summary.range.to, summary.startedAt, summary.finishedAt, summary.ok, JSON.stringify(summary)],
  );
  return Number(rows[0]!.id);
}

type RunRow = { id: string; site_id: string; range_from: Date; range_to: Date; started_at: Date; finished_at: Date; ok: boolean; summary: ReconcileSummary };

const toRun = (r: RunRow): ReconcileRun => ({
  id: Number(r.id),
  siteId: r.site_id,
  rangeFrom: r.range_from.toISOString(),
  rangeTo: r.range_to.toISOString(),
  startedAt: r.started_at.toISOString(),
  finishedAt: r.finished_at.toISOString(),
  ok: r.ok,
  summary: r.summary,
});

/** The newest run of each site (of one site when given), newest first. */
export async function latestReconcileRuns(db: Pick<pg.ClientBase, 'query'>, siteId?: string): Promise<ReconcileRun[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT DISTINCT ON (site_id) id, site_id, range_from, range_to, started_at, finished_at, ok, summary
       FROM reconcile_runs WHERE $1::text IS NULL OR site_id = $1
      ORDER BY site_id, finished_at DESC, id DESC`,
    [siteId ?? null],
  );
  return rows.map(toRun).sort((a, b) => b.finishedAt.localeCompare(a.finishedAt));
}
