import { MAX_ENGAGED_MS_PER_WINDOW, pagePathOf, type EnrichedEvent, type WindowResult } from '@clickstream/shared';

/**
 * The aggregate of one (site, user, window). It keeps the sets it needs to stay exact under
 * duplicates and late corrections: event ids, URL paths and session ids. Once its window is
 * purged it is kept a while longer as a retired holder of event ids, so a retry that lands in a
 * neighbouring window is still recognised (see DedupHorizon in window-operator.ts).
 */
export class WindowAggregate {
  eventIds: DistinctStrings;
  readonly paths: DistinctStrings;
  readonly sessions: DistinctStrings;
  pageViews: number;
  clicks: number;
  customEvents: number;
  engagedMs: number;
  /** -1 until first emitted; then the revision last emitted. */
  revision: number;
  /** In the state log: restored, or written by a checkpoint. Its removal then needs logging too. */
  persisted: boolean;
  /**
   * Watermark until which its event ids are remembered: the end of allowed lateness plus the
   * retry horizon, or - for a holder of too-late ids - later. Ids are not duplicates past it.
   */
  idsUntil: number;
  /**
   * When the newest event counted here reached the collector: the start of its event-to-visible
   * latency. Not checkpointed - a restored window has no live events to measure.
   */
  lastReceivedAt = 0;
  /** Set once the window no longer takes events (derived from the watermark): it only holds ids. */
  retired = false;

  constructor(
    readonly siteId: string,
    readonly userId: string,
    readonly start: number,
    readonly end: number,
    idsUntil: number,
    snapshot?: WindowSnapshot,
  ) {
    this.idsUntil = idsUntil;
    this.eventIds = new DistinctStrings(snapshot?.ids);
    this.paths = new DistinctStrings(snapshot?.paths);
    this.sessions = new DistinctStrings(snapshot?.sessions);
    this.persisted = snapshot !== undefined;
    this.pageViews = snapshot?.pageViews ?? 0;
    this.clicks = snapshot?.clicks ?? 0;
    this.customEvents = snapshot?.customEvents ?? 0;
    this.engagedMs = snapshot?.engagedMs ?? 0;
    this.revision = snapshot?.revision ?? -1;
  }

  get emitted(): boolean {
    return this.revision >= 0;
  }

  /** Counts an event whose id the operator found new for this user. */
  add(event: EnrichedEvent): void {
    this.eventIds.add(event.id);
    if (event.receivedAt > this.lastReceivedAt) this.lastReceivedAt = event.receivedAt;
    this.sessions.add(event.sessionId);
    this.paths.add(pagePathOf(event.url));
    switch (event.type) {
      case 'page_view':
        this.pageViews += 1;
        break;
      case 'click':
        this.clicks += 1;
        break;
      case 'custom':
        this.customEvents += 1;
        break;
      case 'engagement':
        // Its engaged time is spread over the windows of its interval by the operator.
        break;
    }
  }

  /** A holder of too-late ids whose time ran out starts over. */
  forgetIds(): void {
    this.eventIds = new DistinctStrings();
  }

  addEngagedMs(ms: number): void {
    this.engagedMs += ms;
  }

  result(revision: number): WindowResult {
    return {
      siteId: this.siteId,
      userId: this.userId,
      windowStart: isoOf(this.start),
      windowEnd: isoOf(this.end),
      events: this.eventIds.size,
      pageViews: this.pageViews,
      clicks: this.clicks,
      customEvents: this.customEvents,
      uniquePages: this.paths.size,
      engagedMs: Math.min(Math.round(this.engagedMs), MAX_ENGAGED_MS_PER_WINDOW),
      sessions: this.sessions.size,
      revision,
    };
  }

  snapshot(): WindowSnapshot {
    return {
      siteId: this.siteId,
      userId: this.userId,
      start: this.start,
      ids: this.eventIds.values(),
      paths: this.paths.values(),
      sessions: this.sessions.values(),
      pageViews: this.pageViews,
      clicks: this.clicks,
      customEvents: this.customEvents,
      engagedMs: this.engagedMs,
      revision: this.revision,
      idsUntil: this.idsUntil,
    };
  }
}

export interface WindowSnapshot {
  siteId: string;
  userId: string;
  start: number;
  ids: string[];
  paths: string[];
  sessions: string[];
  pageViews: number;
  clicks: number;
  customEvents: number;
  engagedMs: number;
  revision: number;
  /** Watermark at which its ids are forgotten (absent in state logged by earlier versions). */
  idsUntil?: number;
}

/** Above this many members a DistinctStrings switches from a scanned array to a Set. */
const SMALL_SET_LIMIT = 8;

/**
 * A set of strings that stays a plain array while small. Almost every window holds one to a few
 * event ids, paths and sessions; three Sets per window made memory per open window about four
 * times larger and dominated garbage collection during catch-up.
 */
export class DistinctStrings {
  private members: string[] | Set<string>;

  constructor(initial?: readonly string[]) {
    this.members = [];
    for (const value of initial ?? []) this.add(value);
  }

  /** Adds `value`; false when it was already there. */
  add(value: string): boolean {
    const members = this.members;
    if (Array.isArray(members)) {
      if (members.includes(value)) return false;
      if (members.length < SMALL_SET_LIMIT) {
        members.push(value);
        return true;
      }
      this.members = new Set(members).add(value);
      return true;
    }
    if (members.has(value)) return false;
    members.add(value);
    return true;
  }

  has(value: string): boolean {
    return Array.isArray(this.members) ? this.members.includes(value) : this.members.has(value);
  }

  get size(): number {
    return Array.isArray(this.members) ? this.members.length : this.members.size;
  }

  values(): string[] {
    return Array.isArray(this.members) ? this.members.slice() : [...this.members];
  }
}

/** Window bounds repeat for every user of a window: format each instant once. */
const isoCache = new Map<number, string>();

function isoOf(ms: number): string {
  let iso = isoCache.get(ms);
  if (iso === undefined) {
    if (isoCache.size >= 4096) isoCache.clear();
    iso = new Date(ms).toISOString();
    isoCache.set(ms, iso);
  }
  return iso;
}
