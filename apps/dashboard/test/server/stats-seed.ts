import type pg from 'pg';
import { writeSiteStats, type PresenceRowInput, type SiteStatRow } from '@clickstream/db';

/**
 * Rows of the stats tables as the processor writes them, for stats query tests: site rollups and
 * presence from counted events, visits, and 5-second windows.
 */

export interface SeedEvent {
  siteId?: string;
  userId: string;
  /** ISO-8601 event time. */
  at: string;
  type?: 'page_view' | 'click' | 'custom';
  page?: string;
  name?: string;
  props?: Record<string, string | number | boolean>;
}

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;

/** Adds counted events to site_stats_minute/hour/day and visitor_presence (every dimension). */
export async function seedEvents(db: Pick<pg.Pool, 'query'>, events: readonly SeedEvent[]): Promise<void> {
  const stats: SiteStatRow[] = [];
  const presence = new Map<string, PresenceRowInput>();
  for (const e of events) {
    const t = Date.parse(e.at);
    const siteId = e.siteId ?? 'shop';
    const type = e.type ?? 'page_view';
    const minute = t - (t % MINUTE);
    const quarter = t - (t % QUARTER);
    const record = (dimension: string, value: string) => {
      stats.push({ siteId, minute, dimension, value, pageviews: type === 'page_view' ? 1 : 0, events: 1 });
      const row = { siteId, quarter, dimension, value, userId: e.userId };
      presence.set(JSON.stringify(row), row);
    };
    record('', '');
    record('event:page', e.page ?? '/');
    record('event:name', type === 'page_view' ? 'pageview' : type === 'click' ? 'click' : (e.name ?? 'custom'));
    if (type === 'custom') for (const [k, v] of Object.entries(e.props ?? {})) record(`event:props:${k}`, String(v));
  }
  await writeSiteStats(db, stats, [...presence.values()]);
}

export interface SeedVisit {
  siteId?: string;
  userId: string;
  start: string;
  durationMs?: number;
  pageViews?: number;
  events?: number;
  entryPage?: string | null;
  exitPage?: string | null;
  source?: string;
  utmSource?: string | null;
  utmMedium?: string | null;
  utmCampaign?: string | null;
  country?: string | null;
  browser?: string;
  os?: string;
  deviceType?: string;
  bounce?: boolean;
  open?: boolean;
}

export async function seedVisits(db: Pick<pg.Pool, 'query'>, visits: readonly SeedVisit[]): Promise<void> {
  const rows = visits.map((v) => {
    const start = Date.parse(v.start);
    const durationMs = v.durationMs ?? 0;
    const pageViews = v.pageViews ?? 1;
    return {
      site_id: v.siteId ?? 'shop',
      user_id: v.userId,
      session_start: new Date(start).toISOString(),
      session_end: new Date(start + durationMs).toISOString(),
      duration_ms: durationMs,
      page_views: pageViews,
      events: v.events ?? pageViews,
      entry_page: v.entryPage === undefined ? '/' : v.entryPage,
      exit_page: v.exitPage === undefined ? '/' : v.exitPage,
      source: v.source ?? 'Direct / None',
      utm_source: v.utmSource ?? null,
      utm_medium: v.utmMedium ?? null,
      utm_campaign: v.utmCampaign ?? null,
      country: v.country === undefined ? 'DE' : v.country,
      browser: v.browser ?? 'Chrome',
      os: v.os ?? 'Linux',
      device_type: v.deviceType ?? 'desktop',
      bounce: v.bounce ?? pageViews === 1,
      open: v.open ?? false,
      revision: 0,
    };
  });
  await db.query(
    `INSERT INTO user_sessions (site_id, user_id, session_start, session_end, duration_ms, page_views, events, entry_page, exit_page,
                                source, utm_source, utm_medium, utm_campaign, country, browser, os, device_type, bounce, open, revision)
     SELECT site_id, user_id, session_start, session_end, duration_ms, page_views, events, entry_page, exit_page, source, utm_source,
            utm_medium, utm_campaign, country, browser, os, device_type, bounce, open, revision
       FROM jsonb_populate_recordset(NULL::user_sessions, $1::jsonb)`,
    [JSON.stringify(rows)],
  );
}

export interface SeedWindow {
  siteId?: string;
  userId: string;
  /** ISO-8601 start of the 5-second window. */
  start: string;
  pageViews?: number;
  clicks?: number;
  customEvents?: number;
  /** Engagement heartbeats and spread engaged time only: no active user. */
  engagementOnly?: boolean;
}

export async function seedWindows(db: Pick<pg.Pool, 'query'>, windows: readonly SeedWindow[]): Promise<void> {
  const rows = windows.map((w) => {
    const start = Date.parse(w.start);
    const pv = w.engagementOnly ? 0 : (w.pageViews ?? 1);
    const clicks = w.engagementOnly ? 0 : (w.clicks ?? 0);
    const custom = w.engagementOnly ? 0 : (w.customEvents ?? 0);
    return {
      site_id: w.siteId ?? 'shop',
      user_id: w.userId,
      window_start: new Date(start).toISOString(),
      window_end: new Date(start + 5000).toISOString(),
      events: pv + clicks + custom + (w.engagementOnly ? 1 : 0),
      page_views: pv,
      clicks,
      custom_events: custom,
      unique_pages: pv > 0 ? 1 : 0,
      engaged_ms: w.engagementOnly ? 4000 : 0,
      sessions: 1,
      revision: 0,
    };
  });
  await db.query(
    `INSERT INTO user_metrics (site_id, user_id, window_start, window_end, events, page_views, clicks, custom_events, unique_pages,
                               engaged_ms, sessions, revision)
     SELECT site_id, user_id, window_start, window_end, events, page_views, clicks, custom_events, unique_pages, engaged_ms, sessions, revision
       FROM jsonb_populate_recordset(NULL::user_metrics, $1::jsonb)`,
    [JSON.stringify(rows)],
  );
}
