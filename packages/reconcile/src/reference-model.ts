/**
 * The independent reference of the window semantics, written apart from the processor's operator:
 * it replays each input partition's log in offset order and says which windows, visits and site
 * aggregates must exist with which numbers, and which events must land on the late topic. It
 * ignores timing (revisions depend on when timers fire); the final numbers of each window do not.
 * The processor's tests, the chaos run and `pnpm reconcile` all compare against this one model.
 */
export interface ReferenceEvent {
  id: string;
  type: string;
  siteId: string;
  userId: string;
  sessionId: string;
  url: string;
  eventTime: number;
  engagedMs?: number;
  name?: string;
  props?: Record<string, string | number | boolean>;
  isBot?: boolean;
  referrer?: string;
  country?: string | null;
  browser?: string;
  os?: string;
  deviceType?: string;
}

export interface ReferenceWindow {
  siteId: string;
  userId: string;
  windowStart: string;
  windowEnd: string;
  events: number;
  pageViews: number;
  clicks: number;
  customEvents: number;
  uniquePages: number;
  engagedMs: number;
  sessions: number;
}

export interface ReferenceVisit {
  siteId: string;
  userId: string;
  sessionStart: string;
  sessionEnd: string;
  durationMs: number;
  pageViews: number;
  events: number;
  entryPage: string | null;
  exitPage: string | null;
  source: string;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  country: string | null;
  browser: string;
  os: string;
  deviceType: string;
  bounce: boolean;
  open: boolean;
}

export interface ReferenceOutput {
  windows: Map<string, ReferenceWindow>;
  /** Keyed by referenceKey(siteId, userId, sessionStart). */
  visits: Map<string, ReferenceVisit>;
  /** Site rollups keyed by siteStatKey, for the minute, hour and day tables. */
  siteStats: Map<string, { pageviews: number; events: number }>;
  /** Presence rows keyed by presenceKey. */
  presence: Set<string>;
  lateEventIds: string[];
  /** Every id counted in a window (its first occurrence that was neither late nor erased). */
  countedIds: Set<string>;
  /** Per partition, the watermark the replay ended at (raised to `watermarkFloor` where given). */
  watermarks: number[];
  /** Per `${siteId}|${userId}`, the partition its first non-bot event was read from. */
  partitionOf: Map<string, number>;
  /** Events dropped by the erasure log. */
  erasedEvents: number;
}

/** One entry of the erasure log (table user_erasures): the user's events with eventTime <= erasedAt count nowhere. */
export interface ReferenceErasure {
  siteId: string;
  userId: string;
  erasedAt: number;
}

export const siteStatKey = (table: string, siteId: string, bucketStart: string, dimension: string, value: string) =>
  `${table}|${siteId}|${bucketStart}|${dimension}|${value}`;
export const presenceKey = (siteId: string, bucketStart: string, dimension: string, value: string, userId: string) =>
  `${siteId}|${bucketStart}|${dimension}|${value}|${userId}`;

export function referenceKey(siteId: string, userId: string, windowStart: string): string {
  return `${siteId}|${userId}|${windowStart}`;
}

function pathOnly(url: string): string {
  // The URL parser's pathname, written apart from the processor's fast path.
  return new URL(url).pathname || '/';
}

export interface ReferenceSettings {
  outOfOrdernessMs: number;
  allowedLatenessMs: number;
  /** How long past its window's lateness an id is remembered (RETRY_HORIZON_MS). */
  retryHorizonMs?: number;
  sizeMs?: number;
  countBots?: boolean;
  /** SESSION_GAP_MS. */
  sessionGapMs?: number;
  /** The erasure log to replay (contract, "Erasure"); erased events still move the watermark. */
  erasures?: readonly ReferenceErasure[];
  /**
   * Ids a live processor put on website-clicks-late. Its watermark also follows the wall clock on
   * idle partitions, so which events were too late is not in the log alone: an id listed here is
   * too late at its first occurrence whatever the log's watermark says.
   */
  declaredLate?: ReadonlySet<string>;
  /**
   * Per partition, a watermark the partition is known to have reached beyond its log's (the live
   * processor's checkpointed one): windows it passed are emitted, visits it closed are final.
   */
  watermarkFloor?: readonly number[];
}

interface Group {
  partition: number;
  siteId: string;
  userId: string;
  start: number;
  events: Map<string, ReferenceEvent>;
  engagedMs: number;
}

/**
 * Replays each partition's log in offset order with the contract's rules, event by event:
 * the watermark before an event is the highest event time seen so far minus the bound; bots
 * count nowhere (but move the watermark); an id counts at its first occurrence, and a later
 * occurrence is a duplicate while the id is remembered - until its window's end + lateness +
 * retry horizon, or, for an id first seen too late, until size + horizon past the watermark the
 * last too-late id of that user arrived at; an engagement spreads its interval over the windows
 * not yet past lateness.
 */
export function referenceWindows(partitions: ReferenceEvent[][], settings: ReferenceSettings): ReferenceOutput {
  const { outOfOrdernessMs, allowedLatenessMs, sizeMs = 5000, retryHorizonMs = 30_000, countBots = false, sessionGapMs = 1_800_000, declaredLate } = settings;
  const erasedAt = new Map<string, number>();
  for (const e of settings.erasures ?? []) {
    const user = `${e.siteId}|${e.userId}`;
    erasedAt.set(user, Math.max(erasedAt.get(user) ?? Number.NEGATIVE_INFINITY, e.erasedAt));
  }
  const countedIds = new Set<string>();
  const partitionOf = new Map<string, number>();
  let erasedEvents = 0;
  const visits = new Map<string, ReferenceVisit>();
  const siteStats = new Map<string, { pageviews: number; events: number }>();
  const presence = new Set<string>();
  const groups = new Map<string, Group>();
  const lateEventIds: string[] = [];
  const finalWatermarks: number[] = [];
  partitions.forEach((log, partition) => {
    let maxSeen = -Infinity;
    /** Per user: where each counted id lives, and the too-late ids with their deadline. */
    const counted = new Map<string, Map<string, number>>();
    const late = new Map<string, { ids: Set<string>; until: number }>();
    const countedInOrder: Array<{ event: ReferenceEvent; watermark: number }> = [];
    const groupOf = (event: ReferenceEvent, start: number): Group => {
      const key = `${event.siteId}|${event.userId}|${start}`;
      let group = groups.get(key);
      if (!group) {
        group = { partition, siteId: event.siteId, userId: event.userId, start, events: new Map(), engagedMs: 0 };
        groups.set(key, group);
      }
      return group;
    };
    for (const event of log) {
      const watermark = maxSeen - outOfOrdernessMs;
      maxSeen = Math.max(maxSeen, event.eventTime);
      if (event.isBot && !countBots) continue;
      const user = `${event.siteId}|${event.userId}`;
      if (!partitionOf.has(user)) partitionOf.set(user, partition);
      if (erasedAt.size > 0 && event.eventTime <= (erasedAt.get(user) ?? Number.NEGATIVE_INFINITY)) {
        erasedEvents += 1;
        continue;
      }
      const countedStart = counted.get(user)?.get(event.id);
      if (countedStart !== undefined && countedStart + sizeMs + allowedLatenessMs + retryHorizonMs > watermark) continue;
      const lateIds = late.get(user);
      if (lateIds && lateIds.until > watermark && lateIds.ids.has(event.id)) continue;
      const start = Math.floor(event.eventTime / sizeMs) * sizeMs;
      if (start + sizeMs + allowedLatenessMs <= watermark || declaredLate?.has(event.id)) {
        lateEventIds.push(event.id);
        const holder = lateIds && lateIds.until > watermark ? lateIds : { ids: new Set<string>(), until: 0 };
        holder.ids.add(event.id);
        holder.until = watermark + sizeMs + retryHorizonMs;
        late.set(user, holder);
        continue;
      }
      groupOf(event, start).events.set(event.id, event);
      countedIds.add(event.id);
      countedInOrder.push({ event, watermark });
      const ids = counted.get(user) ?? new Map<string, number>();
      ids.set(event.id, start);
      counted.set(user, ids);
      if (event.type === 'engagement' && event.engagedMs) {
        const to = event.eventTime;
        const from = to - event.engagedMs;
        for (let s = Math.floor(from / sizeMs) * sizeMs; s < to; s += sizeMs) {
          const overlap = Math.min(to, s + sizeMs) - Math.max(from, s);
          if (overlap > 0 && s + sizeMs + allowedLatenessMs > watermark) groupOf(event, s).engagedMs += overlap;
        }
      }
    }
    const finalWatermark = Math.max(maxSeen - outOfOrdernessMs, settings.watermarkFloor?.[partition] ?? Number.NEGATIVE_INFINITY);
    finalWatermarks.push(finalWatermark);
    for (const { event } of countedInOrder) addSiteAggregates(event, siteStats, presence);
    for (const visit of referenceVisits(countedInOrder, sessionGapMs, allowedLatenessMs, finalWatermark)) {
      visits.set(referenceKey(visit.siteId, visit.userId, visit.sessionStart), visit);
    }
  });
  const windows = new Map<string, ReferenceWindow>();
  for (const group of groups.values()) {
    // A window whose end its partition's watermark never passed is never emitted.
    if (group.start + sizeMs > finalWatermarks[group.partition]!) continue;
    const events = [...group.events.values()];
    const windowStart = new Date(group.start).toISOString();
    windows.set(referenceKey(group.siteId, group.userId, windowStart), {
      siteId: group.siteId,
      userId: group.userId,
      windowStart,
      windowEnd: new Date(group.start + sizeMs).toISOString(),
      events: events.length,
      pageViews: events.filter((e) => e.type === 'page_view').length,
      clicks: events.filter((e) => e.type === 'click').length,
      customEvents: events.filter((e) => e.type === 'custom').length,
      uniquePages: new Set(events.map((e) => pathOnly(e.url))).size,
      engagedMs: Math.min(sizeMs, Math.round(group.engagedMs)),
      sessions: new Set(events.map((e) => e.sessionId)).size,
    });
  }
  return { windows, visits, siteStats, presence, lateEventIds, countedIds, watermarks: finalWatermarks, partitionOf, erasedEvents };
}

const TABLES = [
  ['site_stats_minute', 60_000],
  ['site_stats_hour', 3_600_000],
  ['site_stats_day', 86_400_000],
] as const;

/** Site aggregates of one counted event: every non-engagement event, by page, name and prop. */
function addSiteAggregates(event: ReferenceEvent, stats: Map<string, { pageviews: number; events: number }>, presence: Set<string>): void {
  if (event.type === 'engagement') return;
  const values: Array<[string, string]> = [
    ['', ''],
    ['event:page', pathOnly(event.url)],
    ['event:name', event.type === 'page_view' ? 'pageview' : event.type === 'custom' ? (event.name ?? 'custom') : event.type],
  ];
  if (event.type === 'custom') for (const [key, value] of Object.entries(event.props ?? {})) values.push([`event:props:${key}`, String(value)]);
  for (const [dimension, raw] of values) {
    const value = raw.slice(0, 512);
    for (const [table, size] of TABLES) {
      const key = siteStatKey(table, event.siteId, new Date(Math.floor(event.eventTime / size) * size).toISOString(), dimension, value);
      const entry = stats.get(key) ?? { pageviews: 0, events: 0 };
      entry.events += 1;
      if (event.type === 'page_view') entry.pageviews += 1;
      stats.set(key, entry);
    }
    presence.add(presenceKey(event.siteId, new Date(Math.floor(event.eventTime / 900_000) * 900_000).toISOString(), dimension, value, event.userId));
  }
}

/**
 * Visits from the counted events of one partition, in log order: an event joins every visit of
 * its user that is not final yet (last event + gap + lateness beyond the watermark it arrived at)
 * and lies within the gap of it, merging them; then each visit's fields are computed from its
 * whole set of events, with ties between equal times broken by event id.
 */
function referenceVisits(counted: Array<{ event: ReferenceEvent; watermark: number }>, gapMs: number, latenessMs: number, finalWatermark: number): ReferenceVisit[] {
  const byUser = new Map<string, ReferenceEvent[][]>();
  for (const { event, watermark } of counted) {
    const user = `${event.siteId}|${event.userId}`;
    const list = byUser.get(user) ?? [];
    byUser.set(user, list);
    const bounds = (v: ReferenceEvent[]) => ({ start: Math.min(...v.map((e) => e.eventTime)), end: Math.max(...v.map((e) => e.eventTime)) });
    const joined = list.filter((v) => {
      const { start, end } = bounds(v);
      return end + gapMs + latenessMs > watermark && event.eventTime - end < gapMs && start - event.eventTime < gapMs;
    });
    const merged = [event, ...joined.flat()];
    byUser.set(user, [...list.filter((v) => !joined.includes(v)), merged]);
  }
  const order = (a: ReferenceEvent, b: ReferenceEvent) => a.eventTime - b.eventTime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const out: ReferenceVisit[] = [];
  for (const list of byUser.values()) {
    for (const events of list) {
      const sorted = [...events].sort(order);
      const first = sorted[0]!;
      const last = sorted[sorted.length - 1]!;
      const pages = sorted.filter((e) => e.type === 'page_view');
      const url = new URL(first.url);
      const utm = (name: string) => url.searchParams.get(name)?.trim() || null;
      let source = utm('utm_source');
      if (!source && first.referrer) {
        try {
          const from = new URL(first.referrer);
          const host = from.hostname.replace(/^www\./, '');
          if (host && host !== url.hostname.replace(/^www\./, '') && from.protocol.startsWith('http')) source = host;
        } catch {
          // no source
        }
      }
      out.push({
        siteId: first.siteId,
        userId: first.userId,
        sessionStart: new Date(first.eventTime).toISOString(),
        sessionEnd: new Date(last.eventTime).toISOString(),
        durationMs: last.eventTime - first.eventTime,
        pageViews: pages.length,
        events: sorted.length,
        entryPage: pages.length > 0 ? pathOnly(pages[0]!.url) : null,
        exitPage: pages.length > 0 ? pathOnly(pages[pages.length - 1]!.url) : null,
        source: source ?? 'Direct / None',
        utmSource: utm('utm_source'),
        utmMedium: utm('utm_medium'),
        utmCampaign: utm('utm_campaign'),
        country: first.country ?? null,
        browser: first.browser ?? '',
        os: first.os ?? '',
        deviceType: first.deviceType ?? '',
        bounce: pages.length === 1 && !sorted.some((e) => e.type === 'click' || e.type === 'custom'),
        open: last.eventTime + gapMs + latenessMs > finalWatermark,
      });
    }
  }
  return out;
}

/** Parses raw `website-clicks` values, partition by partition, for the replay. */
export function toReferenceEvents(logs: Array<Array<{ value: string }>>): ReferenceEvent[][] {
  return logs.map((log) => log.map((m) => JSON.parse(m.value) as ReferenceEvent));
}
