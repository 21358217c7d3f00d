/**
 * Whole tables of the processor's PostgreSQL sinks, keyed as the reference model keys its output:
 * what the processor's tests and the chaos run compare with the reference after a run. The audit
 * itself reads a range of sites in one snapshot (sink-reader.ts).
 */
import pg from 'pg';
import { toVisitResult, toWindowResult, type UserMetricsRow, type UserSessionsRow } from '@clickstream/db';
import type { VisitResult, WindowResult } from '@clickstream/shared';
import type { SiteStat } from './comparison.js';
import { presenceKey, referenceKey, siteStatKey, type ReferenceOutput } from './reference-model.js';
import { SITE_STAT_TABLES } from './sink-reader.js';

/** The site of the sentinel events that push watermarks past every real window (event-streams.ts of local-infra). */
export const SENTINEL_SITE = 'sentinel';

async function withClient<T>(databaseUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Every `user_metrics` row but the sentinels', keyed by referenceKey. */
export function readUserMetrics(databaseUrl: string): Promise<Map<string, WindowResult>> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<UserMetricsRow>(`SELECT * FROM user_metrics WHERE site_id <> $1`, [SENTINEL_SITE]);
    const out = new Map<string, WindowResult>();
    for (const row of rows) {
      const result = toWindowResult(row);
      out.set(referenceKey(result.siteId, result.userId, result.windowStart), result);
    }
    return out;
  });
}

/** Every `user_sessions` row but the sentinels', keyed by referenceKey. */
export function readUserSessions(databaseUrl: string): Promise<Map<string, VisitResult>> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<UserSessionsRow>(`SELECT * FROM user_sessions WHERE site_id <> $1`, [SENTINEL_SITE]);
    const out = new Map<string, VisitResult>();
    for (const row of rows) {
      const visit = toVisitResult(row);
      out.set(referenceKey(visit.siteId, visit.userId, visit.sessionStart), visit);
    }
    return out;
  });
}

/** Every site rollup row and presence row, keyed like the reference's (sentinels left out). */
export function readSiteAggregates(databaseUrl: string): Promise<{ stats: Map<string, SiteStat>; presence: Set<string> }> {
  return withClient(databaseUrl, async (client) => {
    const stats = new Map<string, SiteStat>();
    for (const [table] of SITE_STAT_TABLES) {
      const { rows } = await client.query<{ site_id: string; bucket_start: Date; dimension: string; value: string; pageviews: string; events: string }>(
        `SELECT site_id, bucket_start, dimension, value, pageviews, events FROM ${table} WHERE site_id <> $1`,
        [SENTINEL_SITE],
      );
      for (const r of rows) {
        stats.set(siteStatKey(table, r.site_id, r.bucket_start.toISOString(), r.dimension, r.value), { pageviews: Number(r.pageviews), events: Number(r.events) });
      }
    }
    const presence = new Set<string>();
    const { rows } = await client.query<{ site_id: string; bucket_start: Date; dimension: string; value: string; user_id: string }>(
      `SELECT site_id, bucket_start, dimension, value, user_id FROM visitor_presence WHERE site_id <> $1`,
      [SENTINEL_SITE],
    );
    for (const r of rows) presence.add(presenceKey(r.site_id, r.bucket_start.toISOString(), r.dimension, r.value, r.user_id));
    return { stats, presence };
  });
}

/** Quick check used while waiting: PostgreSQL holds every reference window with its final numbers. */
export async function postgresMatches(databaseUrl: string, reference: ReferenceOutput): Promise<boolean> {
  const rows = await readUserMetrics(databaseUrl);
  if (rows.size !== reference.windows.size) return false;
  for (const [key, expected] of reference.windows) {
    const row = rows.get(key);
    if (!row || row.events !== expected.events || row.clicks !== expected.clicks || row.engagedMs !== expected.engagedMs) return false;
  }
  return true;
}
