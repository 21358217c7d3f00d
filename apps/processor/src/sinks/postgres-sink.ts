import type pg from 'pg';
import type { VisitResult, WindowResult } from '@clickstream/shared';
import { upsertVisitResults, upsertWindowResults, writeSiteStats } from '@clickstream/db';
import type { SiteAggregatesOutput } from '../operators/site-aggregates.js';
import type { VisitDeletion } from '../operators/session-windows.js';

/**
 * The PostgreSQL side of a checkpoint's output: result rows written inside the checkpoint's own
 * transaction, so rows, offsets and state commit together or not at all. Each upsert is guarded
 * by revision, so a replay after a crash cannot move a row backwards.
 */
export async function writeResults(client: pg.ClientBase, results: readonly WindowResult[]): Promise<void> {
  if (results.length > 0) await upsertWindowResults(client, results as WindowResult[]);
}

/**
 * Visits into `user_sessions`, in the same transaction: rows of visits merged away or moved to
 * an earlier start go, then each emitted visit is upserted, replacing only a lower revision.
 */
export async function writeVisits(client: pg.ClientBase, visits: readonly VisitResult[], deletions: readonly VisitDeletion[]): Promise<void> {
  if (deletions.length > 0) {
    await client.query(
      `DELETE FROM user_sessions s USING unnest($1::text[], $2::text[], $3::timestamptz[]) AS d(site_id, user_id, session_start)
        WHERE s.site_id = d.site_id AND s.user_id = d.user_id AND s.session_start = d.session_start`,
      [deletions.map((d) => d.siteId), deletions.map((d) => d.userId), deletions.map((d) => new Date(d.start).toISOString())],
    );
  }
  if (visits.length > 0) await upsertVisitResults(client, visits as VisitResult[]);
}

/** Site rollup deltas and presence rows, in the same transaction. */
export async function writeSiteAggregates(client: pg.ClientBase, site: SiteAggregatesOutput): Promise<void> {
  await writeSiteStats(client, site.stats, site.presence);
}
