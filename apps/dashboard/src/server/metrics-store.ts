import type pg from 'pg';
import { WINDOW_SIZE_MS, type WindowResult } from '@clickstream/shared';

/**
 * Every query the API runs over `user_metrics`, parameterised. A window [s, s + 5 s) is in a
 * range [from, to) when it overlaps it: s > from - 5 s and s < to, which the
 * (site_id, window_start) index and the primary key serve directly.
 */

export type Queryable = Pick<pg.Pool, 'query'>;

import type { TimelinePoint, TopUser } from '@clickstream/shared';
import { toWindowResult, type UserMetricsRow as ResultRow } from '@clickstream/db';
export type { TimelinePoint, TopUser };

export const TOP_USER_ORDER = Object.freeze({ events: 'events', clicks: 'clicks', engagedMs: 'engaged_ms' } as const);
export type TopUserOrder = keyof typeof TOP_USER_ORDER;

const RESULT_COLUMNS = `site_id, user_id, window_start, window_end, events, page_views, clicks, custom_events,
       unique_pages, engaged_ms, sessions, revision`;

export { toWindowResult };

export async function userWindows(
  db: Queryable,
  q: { siteId: string; userId: string; from: number; to: number; limit: number },
): Promise<WindowResult[]> {
  const { rows } = await db.query<ResultRow>(
    `SELECT ${RESULT_COLUMNS}
       FROM user_metrics
      WHERE site_id = $1 AND user_id = $2 AND window_start > $3 AND window_start < $4
      ORDER BY window_start
      LIMIT $5`,
    [q.siteId, q.userId, new Date(q.from - WINDOW_SIZE_MS), new Date(q.to), q.limit],
  );
  return rows.map(toWindowResult);
}

export async function userExists(db: Queryable, siteId: string, userId: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM user_metrics WHERE site_id = $1 AND user_id = $2 LIMIT 1', [siteId, userId]);
  return (rowCount ?? 0) > 0;
}

/**
 * Totals per 5-second window of one site, only for windows that hold data. Reads the rollup
 * (totals plus not yet folded deltas, one snapshot) rather than every user's rows: a day is at
 * most 17,280 totals however many users there are.
 */
export async function timeline(db: Queryable, q: { siteId: string; from: number; to: number }): Promise<Map<number, TimelinePoint>> {
  const { rows } = await db.query<{ ws: string; users: string; events: string; page_views: string; clicks: string; engaged_ms: string }>(
    `SELECT (extract(epoch FROM window_start) * 1000)::int8 AS ws, sum(active_users)::int8 AS users, sum(events)::int8 AS events,
            sum(page_views)::int8 AS page_views, sum(clicks)::int8 AS clicks, sum(engaged_ms)::int8 AS engaged_ms
       FROM (SELECT window_start, active_users, events, page_views, clicks, engaged_ms
               FROM site_window_totals WHERE site_id = $1 AND window_start > $2 AND window_start < $3
             UNION ALL
             SELECT window_start, active_users, events, page_views, clicks, engaged_ms
               FROM site_window_deltas WHERE site_id = $1 AND window_start > $2 AND window_start < $3) AS parts
      GROUP BY window_start
     HAVING sum(active_users) > 0`,
    [q.siteId, new Date(q.from - WINDOW_SIZE_MS), new Date(q.to)],
  );
  const points = new Map<number, TimelinePoint>();
  for (const r of rows) {
    const start = Number(r.ws);
    points.set(start, {
      windowStart: new Date(start).toISOString(),
      activeUsers: Number(r.users),
      events: Number(r.events),
      pageViews: Number(r.page_views),
      clicks: Number(r.clicks),
      engagedMs: Number(r.engaged_ms),
    });
  }
  return points;
}

export async function topUsers(
  db: Queryable,
  q: { siteId: string; from: number; to: number; by: TopUserOrder; limit: number },
): Promise<TopUser[]> {
  // The ORDER BY column comes from a fixed table, never from the request text.
  const order = TOP_USER_ORDER[q.by];
  const { rows } = await db.query<{ user_id: string; events: string; clicks: string; engaged_ms: string; windows: number }>(
    `SELECT user_id, sum(events)::int8 AS events, sum(clicks)::int8 AS clicks, sum(engaged_ms)::int8 AS engaged_ms,
            count(*)::int AS windows
       FROM user_metrics
      WHERE site_id = $1 AND window_start > $2 AND window_start < $3
      GROUP BY user_id
      ORDER BY ${order} DESC, user_id
      LIMIT $4`,
    [q.siteId, new Date(q.from - WINDOW_SIZE_MS), new Date(q.to), q.limit],
  );
  return rows.map((r) => ({
    userId: r.user_id,
    events: Number(r.events),
    clicks: Number(r.clicks),
    engagedMs: Number(r.engaged_ms),
    windows: r.windows,
  }));
}

/**
 * The sites with stored windows, each with the end of its newest window. `SELECT DISTINCT site_id`
 * would read the whole table; this walks the (site_id, window_start) index from one site to the
 * next (a loose index scan: one index descent per site), and one backward descent per site finds
 * its newest window, so the cost grows with the number of sites, not of rows.
 */
export async function listSites(db: Queryable): Promise<Array<{ siteId: string; lastSeen?: string }>> {
  const { rows } = await db.query<{ site_id: string; last_seen: Date | null }>(
    `WITH RECURSIVE sites AS (
       (SELECT site_id FROM user_metrics ORDER BY site_id LIMIT 1)
       UNION ALL
       SELECT (SELECT m.site_id FROM user_metrics m WHERE m.site_id > sites.site_id ORDER BY m.site_id LIMIT 1)
         FROM sites WHERE sites.site_id IS NOT NULL)
     SELECT site_id,
            (SELECT m.window_end FROM user_metrics m WHERE m.site_id = sites.site_id ORDER BY m.window_start DESC LIMIT 1) AS last_seen
       FROM sites
      WHERE site_id IS NOT NULL
      ORDER BY site_id`,
  );
  return rows.map((r) => (r.last_seen ? { siteId: r.site_id, lastSeen: r.last_seen.toISOString() } : { siteId: r.site_id }));
}

/**
 * Windows written (first emitted or revised) at or after `since`: what a live client missed while
 * it was away. The newest `limit` of them, oldest first.
 */
export async function windowsSince(db: Queryable, q: { since: number; siteId?: string; limit: number }): Promise<WindowResult[]> {
  const { rows } = await db.query<ResultRow>(
    `SELECT * FROM (
       SELECT ${RESULT_COLUMNS}, updated_at
         FROM user_metrics
        WHERE updated_at >= $1 AND ($2::text IS NULL OR site_id = $2)
        ORDER BY updated_at DESC
        LIMIT $3) AS recent
      ORDER BY updated_at, window_start`,
    [new Date(q.since), q.siteId ?? null, q.limit],
  );
  return rows.map(toWindowResult);
}
