/**
 * What the processor's PostgreSQL sinks hold for some sites and an event-time range, keyed as the
 * reference model keys its output, and the erasure log it must replay. Read in one read-only,
 * repeatable-read transaction, so every table is seen at the same moment.
 */
import type pg from 'pg';
import { toVisitResult, toWindowResult, type UserMetricsRow, type UserSessionsRow } from '@clickstream/db';
import type { VisitResult, WindowResult } from '@clickstream/shared';
import { presenceKey, referenceKey, siteStatKey, type ReferenceErasure } from './reference-model.js';
import type { SiteStat } from './comparison.js';

export const SITE_STAT_TABLES = [
  ['site_stats_minute', 60_000],
  ['site_stats_hour', 3_600_000],
  ['site_stats_day', 86_400_000],
] as const;
export type SiteStatTable = (typeof SITE_STAT_TABLES)[number][0];
export const PRESENCE_BUCKET_MS = 900_000;

export interface SinkSnapshot {
  windows: Map<string, WindowResult>;
  visits: Map<string, VisitResult>;
  /** Keyed by siteStatKey (table first). */
  siteStats: Map<string, SiteStat>;
  /** Keyed by presenceKey. */
  presence: Set<string>;
}

export interface ErasureEntry extends ReferenceErasure {
  /** Whether its deletion markers are on user-metrics and user-sessions yet. */
  markersSent: boolean;
}

/**
 * Rows of the sites whose window, visit or bucket starts in [from, to); buckets that start before
 * `from` are left out (they are not inside the range).
 */
export async function readSinks(db: pg.ClientBase, sites: readonly string[], from: number, to: number): Promise<SinkSnapshot> {
  const range = [sites, new Date(from), new Date(to)];
  await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const windows = new Map<string, WindowResult>();
    const w = await db.query<UserMetricsRow>(`SELECT * FROM user_metrics WHERE site_id = ANY($1) AND window_start >= $2 AND window_start < $3`, range);
    for (const row of w.rows) {
      const result = toWindowResult(row);
      windows.set(referenceKey(result.siteId, result.userId, result.windowStart), result);
    }
    const visits = new Map<string, VisitResult>();
    const v = await db.query<UserSessionsRow>(`SELECT * FROM user_sessions WHERE site_id = ANY($1) AND session_start >= $2 AND session_start < $3`, range);
    for (const row of v.rows) {
      const visit = toVisitResult(row);
      visits.set(referenceKey(visit.siteId, visit.userId, visit.sessionStart), visit);
    }
    const siteStats = new Map<string, SiteStat>();
    for (const [table] of SITE_STAT_TABLES) {
      const s = await db.query<{ site_id: string; bucket_start: Date; dimension: string; value: string; pageviews: string; events: string }>(
        `SELECT site_id, bucket_start, dimension, value, pageviews, events FROM ${table} WHERE site_id = ANY($1) AND bucket_start >= $2 AND bucket_start < $3`,
        range,
      );
      for (const r of s.rows) {
        siteStats.set(siteStatKey(table, r.site_id, r.bucket_start.toISOString(), r.dimension, r.value), { pageviews: Number(r.pageviews), events: Number(r.events) });
      }
    }
    const presence = new Set<string>();
    const p = await db.query<{ site_id: string; bucket_start: Date; dimension: string; value: string; user_id: string }>(
      `SELECT site_id, bucket_start, dimension, value, user_id FROM visitor_presence WHERE site_id = ANY($1) AND bucket_start >= $2 AND bucket_start < $3`,
      range,
    );
    for (const r of p.rows) presence.add(presenceKey(r.site_id, r.bucket_start.toISOString(), r.dimension, r.value, r.user_id));
    await db.query('COMMIT');
    return { windows, visits, siteStats, presence };
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** The erasure log of the sites (table user_erasures). */
export async function readErasures(db: Pick<pg.ClientBase, 'query'>, sites: readonly string[]): Promise<ErasureEntry[]> {
  const { rows } = await db.query<{ site_id: string; user_id: string; erased_at: Date; markers_sent: boolean }>(
    `SELECT site_id, user_id, erased_at, markers_sent FROM user_erasures WHERE site_id = ANY($1) ORDER BY seq`,
    [sites],
  );
  return rows.map((r) => ({ siteId: r.site_id, userId: r.user_id, erasedAt: r.erased_at.getTime(), markersSent: r.markers_sent }));
}
