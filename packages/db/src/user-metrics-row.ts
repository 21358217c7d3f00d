import type { WindowResult } from '@clickstream/shared';

/** A row of `user_metrics` as node-postgres returns it. */
export interface UserMetricsRow {
  site_id: string;
  user_id: string;
  window_start: Date;
  window_end: Date;
  events: number;
  page_views: number;
  clicks: number;
  custom_events: number;
  unique_pages: number;
  engaged_ms: number;
  sessions: number;
  revision: number;
}

/** The row as the contract's WindowResult (JSON of `user-metrics` and the API). */
export function toWindowResult(r: UserMetricsRow): WindowResult {
  return {
    siteId: r.site_id,
    userId: r.user_id,
    windowStart: r.window_start.toISOString(),
    windowEnd: r.window_end.toISOString(),
    events: r.events,
    pageViews: r.page_views,
    clicks: r.clicks,
    customEvents: r.custom_events,
    uniquePages: r.unique_pages,
    engagedMs: r.engaged_ms,
    sessions: r.sessions,
    revision: r.revision,
  };
}
