import type pg from 'pg';
import type { VisitResult } from '@clickstream/shared';

/**
 * Writes visits into `user_sessions` (the processor, inside its checkpoint transaction). A row is
 * replaced only by a higher revision, like window results.
 */
export async function upsertVisitResults(client: Pick<pg.ClientBase, 'query'>, visits: VisitResult[]): Promise<void> {
  if (visits.length === 0) return;
  const column = <K extends keyof VisitResult>(key: K) => visits.map((v) => v[key]);
  await client.query(
    `INSERT INTO user_sessions (site_id, user_id, session_start, session_end, duration_ms, page_views, events,
                                entry_page, exit_page, source, utm_source, utm_medium, utm_campaign, country,
                                browser, os, device_type, bounce, open, revision)
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::bigint[], $6::int[], $7::int[],
                          $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                          $15::text[], $16::text[], $17::text[], $18::boolean[], $19::boolean[], $20::int[])
     ON CONFLICT (site_id, user_id, session_start) DO UPDATE SET
       session_end = EXCLUDED.session_end, duration_ms = EXCLUDED.duration_ms, page_views = EXCLUDED.page_views,
       events = EXCLUDED.events, entry_page = EXCLUDED.entry_page, exit_page = EXCLUDED.exit_page,
       source = EXCLUDED.source, utm_source = EXCLUDED.utm_source, utm_medium = EXCLUDED.utm_medium,
       utm_campaign = EXCLUDED.utm_campaign, country = EXCLUDED.country, browser = EXCLUDED.browser,
       os = EXCLUDED.os, device_type = EXCLUDED.device_type, bounce = EXCLUDED.bounce, open = EXCLUDED.open,
       revision = EXCLUDED.revision, updated_at = now()
     WHERE user_sessions.revision < EXCLUDED.revision`,
    [
      column('siteId'),
      column('userId'),
      column('sessionStart'),
      column('sessionEnd'),
      column('durationMs'),
      column('pageViews'),
      column('events'),
      column('entryPage'),
      column('exitPage'),
      column('source'),
      column('utmSource'),
      column('utmMedium'),
      column('utmCampaign'),
      column('country'),
      column('browser'),
      column('os'),
      column('deviceType'),
      column('bounce'),
      column('open'),
      column('revision'),
    ],
  );
}

/** A `user_sessions` row as pg returns it. */
export interface UserSessionsRow {
  site_id: string;
  user_id: string;
  session_start: Date;
  session_end: Date;
  duration_ms: string | number;
  page_views: number;
  events: number;
  entry_page: string | null;
  exit_page: string | null;
  source: string;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  country: string | null;
  browser: string;
  os: string;
  device_type: string;
  bounce: boolean;
  open: boolean;
  revision: number;
}

export function toVisitResult(row: UserSessionsRow): VisitResult {
  return {
    siteId: row.site_id,
    userId: row.user_id,
    sessionStart: row.session_start.toISOString(),
    sessionEnd: row.session_end.toISOString(),
    durationMs: Number(row.duration_ms),
    pageViews: row.page_views,
    events: row.events,
    entryPage: row.entry_page,
    exitPage: row.exit_page,
    source: row.source,
    utmSource: row.utm_source,
    utmMedium: row.utm_medium,
    utmCampaign: row.utm_campaign,
    country: row.country,
    browser: row.browser,
    os: row.os,
    deviceType: row.device_type,
    bounce: row.bounce,
    open: row.open,
    revision: row.revision,
  };
}
