/**
 * An independent reference of the window semantics, written apart from the operator: it replays
 * each input partition's log in offset order and says which windows must exist with which
 * numbers, and which events must land on the late topic. It ignores timing (revisions depend on
 * when timers fire); the final numbers of each window do not.
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
  isBot?: boolean;
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

export interface ReferenceOutput {
  windows: Map<string, ReferenceWindow>;
  lateEventIds: string[];
}

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
  const { outOfOrdernessMs, allowedLatenessMs, sizeMs = 5000, retryHorizonMs = 30_000, countBots = false } = settings;
  const groups = new Map<string, Group>();
  const lateEventIds: string[] = [];
  const finalWatermarks: number[] = [];
  partitions.forEach((log, partition) => {
    let maxSeen = -Infinity;
    /** Per user: where each counted id lives, and the too-late ids with their deadline. */
    const counted = new Map<string, Map<string, number>>();
    const late = new Map<string, { ids: Set<string>; until: number }>();
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
      const countedStart = counted.get(user)?.get(event.id);
      if (countedStart !== undefined && countedStart + sizeMs + allowedLatenessMs + retryHorizonMs > watermark) continue;
      const lateIds = late.get(user);
      if (lateIds && lateIds.until > watermark && lateIds.ids.has(event.id)) continue;
      const start = Math.floor(event.eventTime / sizeMs) * sizeMs;
      if (start + sizeMs + allowedLatenessMs <= watermark) {
        lateEventIds.push(event.id);
        const holder = lateIds && lateIds.until > watermark ? lateIds : { ids: new Set<string>(), until: 0 };
        holder.ids.add(event.id);
        holder.until = watermark + sizeMs + retryHorizonMs;
        late.set(user, holder);
        continue;
      }
      groupOf(event, start).events.set(event.id, event);
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
    finalWatermarks.push(maxSeen - outOfOrdernessMs);
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
  return { windows, lateEventIds };
}
