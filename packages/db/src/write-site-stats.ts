import type pg from 'pg';

export interface SiteStatRow {
  siteId: string;
  /** Start of the minute, ms since the epoch. */
  minute: number;
  dimension: string;
  value: string;
  pageviews: number;
  events: number;
}

export interface PresenceRowInput {
  siteId: string;
  /** Start of the quarter hour, ms since the epoch. */
  quarter: number;
  dimension: string;
  value: string;
  userId: string;
}

const GRANULARITIES = [
  { table: 'site_stats_minute', bucketMs: 60_000 },
  { table: 'site_stats_hour', bucketMs: 3_600_000 },
  { table: 'site_stats_day', bucketMs: 86_400_000 },
] as const;

/**
 * Adds one checkpoint's deltas to the minute, hour and day rollups and records presence, inside
 * the caller's transaction. Deltas are summed per bucket first, so each row is touched once per
 * statement (ON CONFLICT cannot update one row twice in a statement).
 */
const presenceKey = (p: PresenceRowInput) => `${p.siteId}\u0000${p.dimension}\u0000${p.quarter}\u0000${p.value}\u0000${p.userId}`;
const compareKeys = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function writeSiteStats(client: Pick<pg.ClientBase, 'query'>, stats: readonly SiteStatRow[], presence: readonly PresenceRowInput[]): Promise<void> {
  if (stats.length > 0) {
    for (const { table, bucketMs } of GRANULARITIES) {
      const rows = new Map<string, { siteId: string; bucket: number; dimension: string; value: string; pageviews: number; events: number }>();
      for (const s of stats) {
        const bucket = s.minute - (s.minute % bucketMs);
        const key = `${s.siteId}\u0000${bucket}\u0000${s.dimension}\u0000${s.value}`;
        const row = rows.get(key);
        if (row) {
          row.pageviews += s.pageviews;
          row.events += s.events;
        } else {
          rows.set(key, { siteId: s.siteId, bucket, dimension: s.dimension, value: s.value, pageviews: s.pageviews, events: s.events });
        }
      }
      // One order for every writer: checkpoints of different partitions touch the same rows (a
      // site's total for the current minute), and rows locked in one order cannot deadlock.
      const list = [...rows.entries()].sort(([a], [b]) => compareKeys(a, b)).map(([, row]) => row);
      await client.query(
        `INSERT INTO ${table} AS t (site_id, bucket_start, dimension, value, pageviews, events)
         SELECT site_id, to_timestamp(bucket / 1000.0), dimension, value, pageviews, events
           FROM unnest($1::text[], $2::float8[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
             AS d(site_id, bucket, dimension, value, pageviews, events)
         ON CONFLICT (site_id, dimension, bucket_start, value) DO UPDATE
           SET pageviews = t.pageviews + EXCLUDED.pageviews, events = t.events + EXCLUDED.events`,
        [
          list.map((r) => r.siteId),
          list.map((r) => r.bucket),
          list.map((r) => r.dimension),
          list.map((r) => r.value),
          list.map((r) => r.pageviews),
          list.map((r) => r.events),
        ],
      );
    }
  }
  if (presence.length > 0) {
    presence = [...presence].sort((a, b) => compareKeys(presenceKey(a), presenceKey(b)));
    await client.query(
      `INSERT INTO visitor_presence (site_id, dimension, bucket_start, value, user_id)
       SELECT site_id, dimension, to_timestamp(quarter / 1000.0), value, user_id
         FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[], $5::text[]) AS p(site_id, dimension, quarter, value, user_id)
       ON CONFLICT DO NOTHING`,
      [
        presence.map((p) => p.siteId),
        presence.map((p) => p.dimension),
        presence.map((p) => p.quarter),
        presence.map((p) => p.value),
        presence.map((p) => p.userId),
      ],
    );
  }
}
