import { pagePathOf, type EnrichedEvent } from '@clickstream/shared';

/** Site totals: the dimension and value of the row that holds a site's whole traffic. */
export const TOTAL_DIMENSION = '';

/** Presence rows are kept per quarter hour: every UTC offset in use is a multiple of 15 minutes. */
export const PRESENCE_BUCKET_MS = 15 * 60_000;
const MINUTE_MS = 60_000;

/** Values longer than this are cut: a dimension value is a label, not a payload. */
const MAX_VALUE_LENGTH = 512;

/** Summable counts of one (site, minute, dimension, value), added to the rollups as a delta. */
export interface SiteStatDelta {
  siteId: string;
  minute: number;
  dimension: string;
  value: string;
  pageviews: number;
  events: number;
}

/** One user seen with one dimension value in one quarter hour: what exact visitors are counted from. */
export interface PresenceRow {
  siteId: string;
  quarter: number;
  dimension: string;
  value: string;
  userId: string;
}

export interface SiteAggregatesOutput {
  stats: SiteStatDelta[];
  presence: PresenceRow[];
}

/**
 * Site-level aggregates by event dimension (`event:page`, `event:name`, `event:props:<key>`, and
 * the site total), as deltas per checkpoint: the checkpoint adds them to the minute, hour and day
 * rollups in its own transaction, so they count every counted event exactly once without holding
 * any state between checkpoints. What is written grows with the distinct (minute, value) pairs and
 * (quarter, value, user) triples a checkpoint saw, not with its events. Engagement heartbeats are
 * bookkeeping of engaged time, not events of the site, and count here nowhere.
 */
export class SiteAggregates {
  private stats = new Map<string, SiteStatDelta>();
  private presence = new Map<string, PresenceRow>();

  /** Adds an event the window operator counted. */
  add(event: EnrichedEvent): void {
    if (event.type === 'engagement') return;
    const minute = event.eventTime - (event.eventTime % MINUTE_MS);
    const quarter = event.eventTime - (event.eventTime % PRESENCE_BUCKET_MS);
    const pageview = event.type === 'page_view' ? 1 : 0;
    const record = (dimension: string, value: string) => {
      const label = value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value;
      const statKey = `${event.siteId}\u0000${minute}\u0000${dimension}\u0000${label}`;
      let stat = this.stats.get(statKey);
      if (!stat) {
        stat = { siteId: event.siteId, minute, dimension, value: label, pageviews: 0, events: 0 };
        this.stats.set(statKey, stat);
      }
      stat.pageviews += pageview;
      stat.events += 1;
      const presenceKey = `${event.siteId}\u0000${quarter}\u0000${dimension}\u0000${label}\u0000${event.userId}`;
      if (!this.presence.has(presenceKey)) {
        this.presence.set(presenceKey, { siteId: event.siteId, quarter, dimension, value: label, userId: event.userId });
      }
    };
    record(TOTAL_DIMENSION, '');
    record('event:page', pagePathOf(event.url));
    record('event:name', eventNameOf(event));
    if (event.type === 'custom' && event.props) {
      for (const [key, value] of Object.entries(event.props)) record(`event:props:${key}`, String(value));
    }
  }

  /** Presence is personal data: an erased user's pending rows up to `erasedAt` go; counts stay. */
  erase(siteId: string, userId: string, erasedAt: number): void {
    for (const [key, row] of this.presence) {
      if (row.siteId === siteId && row.userId === userId && row.quarter <= erasedAt) this.presence.delete(key);
    }
  }

  /** What was added since the last call; the caller writes it with its checkpoint. */
  take(): SiteAggregatesOutput {
    const output = { stats: [...this.stats.values()], presence: [...this.presence.values()] };
    this.stats = new Map();
    this.presence = new Map();
    return output;
  }
}

/** Plausible's names: "pageview" for page views, the custom name for custom events. */
export function eventNameOf(event: Pick<EnrichedEvent, 'type' | 'name'>): string {
  if (event.type === 'page_view') return 'pageview';
  if (event.type === 'custom') return event.name ?? 'custom';
  return event.type;
}
