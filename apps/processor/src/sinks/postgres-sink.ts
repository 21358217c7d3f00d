import type pg from 'pg';
import type { WindowResult } from '@clickstream/shared';

/**
 * Writes window results into `user_metrics` inside the caller's checkpoint transaction. A row is
 * replaced only by a higher revision, so a result can never be overwritten by an older one.
 */
export async function upsertWindowResults(client: pg.PoolClient | pg.Client, results: WindowResult[]): Promise<void> {
  if (results.length === 0) return;
  await client.query(
    `INSERT INTO user_metrics (site_id, user_id, window_start, window_end, events, page_views, clicks,
                               custom_events, unique_pages, engaged_ms, sessions, revision)
     SELECT r."siteId", r."userId", r."windowStart", r."windowEnd", r.events, r."pageViews", r.clicks,
            r."customEvents", r."uniquePages", r."engagedMs", r.sessions, r.revision
       FROM jsonb_to_recordset($1::jsonb) AS r(
              "siteId" text, "userId" text, "windowStart" timestamptz, "windowEnd" timestamptz,
              events int, "pageViews" int, clicks int, "customEvents" int, "uniquePages" int,
              "engagedMs" int, sessions int, revision int)
     ON CONFLICT (site_id, user_id, window_start) DO UPDATE SET
       window_end = EXCLUDED.window_end, events = EXCLUDED.events, page_views = EXCLUDED.page_views,
       clicks = EXCLUDED.clicks, custom_events = EXCLUDED.custom_events, unique_pages = EXCLUDED.unique_pages,
       engaged_ms = EXCLUDED.engaged_ms, sessions = EXCLUDED.sessions, revision = EXCLUDED.revision,
       updated_at = now()
     WHERE user_metrics.revision < EXCLUDED.revision`,
    [JSON.stringify(results)],
  );
}
