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
interface Stat {
  pageviews: number;
  events: number;
}

/** One site's minute (stats) or quarter hour (presence): values of each dimension apart. */
interface Buckets<T> {
  total: T;
  pages: Map<string, T>;
  names: Map<string, T>;
  props: Map<string, Map<string, T>>;
}

function buckets<T>(make: () => T): Buckets<T> {
  return { total: make(), pages: new Map(), names: new Map(), props: new Map() };
}

function entry<K, T>(map: Map<K, T>, key: K, make: () => T): T {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

const newStat = (): Stat => ({ pageviews: 0, events: 0 });

function count(stat: Stat, pageview: number): void {
  stat.pageviews += pageview;
  stat.events += 1;
}
const newUsers = (): Set<string> => new Set();
const label = (value: string) => (value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value);

/**
 * Site-level aggregates by event dimension (`event:page`, `event:name`, `event:props:<key>`, and
 * the site total), as deltas per checkpoint: the checkpoint adds them to the minute, hour and day
 * rollups in its own transaction, so they count every counted event exactly once without holding
 * any state between checkpoints. What is written grows with the distinct (minute, value) pairs and
 * (quarter, value, user) triples a checkpoint saw, not with its events. Engagement heartbeats are
 * bookkeeping of engaged time, not events of the site, and count here nowhere. Held as nested maps
 * (site, bucket, dimension, value) so that an event costs map look-ups, not key strings.
 */
export class SiteAggregates {
  constructor(private readonly allowedLatenessMs: number) {}

  private stats = new Map<string, Map<number, Buckets<Stat>>>();
  /**
   * Users seen per (site, quarter, dimension, value), kept across checkpoints until the quarter
   * can take no more events, so a presence row is written once, not at every checkpoint in which
   * the user shows up again. Not checkpointed: after a restart a row may be written again, which
   * its ON CONFLICT DO NOTHING absorbs.
   */
  private seen = new Map<string, Map<number, Buckets<Set<string>>>>();
  /** Presence rows first seen since the last take. */
  private fresh: PresenceRow[] = [];

  /** Adds an event the window operator counted. */
  add(event: EnrichedEvent): void {
    if (event.type === 'engagement') return;
    const minute = event.eventTime - (event.eventTime % MINUTE_MS);
    const quarter = event.eventTime - (event.eventTime % PRESENCE_BUCKET_MS);
    const pageview = event.type === 'page_view' ? 1 : 0;
    const page = label(pagePathOf(event.url));
    const name = label(eventNameOf(event));
    const stats = entry(entry(this.stats, event.siteId, () => new Map<number, Buckets<Stat>>()), minute, () => buckets(newStat));
    const users = entry(entry(this.seen, event.siteId, () => new Map<number, Buckets<Set<string>>>()), quarter, () => buckets(newUsers));
    const site = event.siteId;
    const user = event.userId;
    count(stats.total, pageview);
    this.see(users.total, site, quarter, TOTAL_DIMENSION, '', user);
    count(entry(stats.pages, page, newStat), pageview);
    this.see(entry(users.pages, page, newUsers), site, quarter, 'event:page', page, user);
    count(entry(stats.names, name, newStat), pageview);
    this.see(entry(users.names, name, newUsers), site, quarter, 'event:name', name, user);
    if (event.type === 'custom' && event.props) {
      for (const key in event.props) {
        const value = label(String(event.props[key]));
        count(entry(entry(stats.props, key, () => new Map<string, Stat>()), value, newStat), pageview);
        this.see(entry(entry(users.props, key, () => new Map<string, Set<string>>()), value, newUsers), site, quarter, `event:props:${key}`, value, user);
      }
    }
  }

  /** Presence is personal data: an erased user's pending rows up to `erasedAt` go; counts stay. */
  erase(siteId: string, userId: string, erasedAt: number): void {
    this.fresh = this.fresh.filter((p) => p.siteId !== siteId || p.userId !== userId || p.quarter > erasedAt);
    for (const [quarter, users] of this.seen.get(siteId) ?? []) {
      if (quarter > erasedAt) continue;
      users.total.delete(userId);
      for (const set of users.pages.values()) set.delete(userId);
      for (const set of users.names.values()) set.delete(userId);
      for (const values of users.props.values()) for (const set of values.values()) set.delete(userId);
    }
  }

  private see(users: Set<string>, siteId: string, quarter: number, dimension: string, value: string, userId: string): void {
    if (users.has(userId)) return;
    users.add(userId);
    this.fresh.push({ siteId, quarter, dimension, value, userId });
  }

  /** What was added since the last call; the caller writes it with its checkpoint. */
  take(watermark: number): SiteAggregatesOutput {
    const stats: SiteStatDelta[] = [];
    for (const [siteId, minutes] of this.stats) {
      for (const [minute, b] of minutes) {
        const push = (dimension: string, value: string, s: Stat) => stats.push({ siteId, minute, dimension, value, pageviews: s.pageviews, events: s.events });
        push(TOTAL_DIMENSION, '', b.total);
        for (const [value, s] of b.pages) push('event:page', value, s);
        for (const [value, s] of b.names) push('event:name', value, s);
        for (const [key, values] of b.props) for (const [value, s] of values) push(`event:props:${key}`, value, s);
      }
    }
    const presence = this.fresh;
    this.fresh = [];
    // A quarter whose every window is past allowed lateness takes no more events: forget it.
    for (const [siteId, quarters] of this.seen) {
      for (const quarter of quarters.keys()) if (quarter + PRESENCE_BUCKET_MS + this.allowedLatenessMs <= watermark) quarters.delete(quarter);
      if (quarters.size === 0) this.seen.delete(siteId);
    }
    this.stats = new Map();
    return { stats, presence };
  }
}
/** Plausible's names: "pageview" for page views, the custom name for custom events. */
export function eventNameOf(event: Pick<EnrichedEvent, 'type' | 'name'>): string {
  if (event.type === 'page_view') return 'pageview';
  if (event.type === 'custom') return event.name ?? 'custom';
  return event.type;
}
