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
  const parsed = new URL(url);
  return parsed.pathname || '/';
}

/**
 * @param partitions each input partition's events in offset order
 * @param outOfOrdernessMs watermark bound
 * @param allowedLatenessMs how long after its end a window still takes events
 * @param sizeMs window size
 */
export function referenceWindows(
  partitions: ReferenceEvent[][],
  { outOfOrdernessMs, allowedLatenessMs, sizeMs = 5000 }: { outOfOrdernessMs: number; allowedLatenessMs: number; sizeMs?: number },
): ReferenceOutput {
  const groups = new Map<string, { partition: number; siteId: string; userId: string; start: number; events: Map<string, ReferenceEvent> }>();
  const lateEventIds: string[] = [];
  const finalWatermarks: number[] = [];
  partitions.forEach((log, partition) => {
    let maxSeen = -Infinity;
    for (const event of log) {
      const start = Math.floor(event.eventTime / sizeMs) * sizeMs;
      const watermark = maxSeen - outOfOrdernessMs;
      if (start + sizeMs + allowedLatenessMs <= watermark) {
        lateEventIds.push(event.id);
      } else {
        const key = `${event.siteId}|${event.userId}|${start}`;
        let group = groups.get(key);
        if (!group) {
          group = { partition, siteId: event.siteId, userId: event.userId, start, events: new Map() };
          groups.set(key, group);
        }
        if (!group.events.has(event.id)) group.events.set(event.id, event);
      }
      maxSeen = Math.max(maxSeen, event.eventTime);
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
      engagedMs: Math.min(5000, Math.round(events.reduce((sum, e) => sum + (e.type === 'engagement' ? (e.engagedMs ?? 0) : 0), 0))),
      sessions: new Set(events.map((e) => e.sessionId)).size,
    });
  }
  return { windows, lateEventIds };
}
