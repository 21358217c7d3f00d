import { MAX_ENGAGED_MS_PER_WINDOW, type EnrichedEvent, type WindowResult } from '@clickstream/shared';

/**
 * The aggregate of one (site, user, window). It keeps the sets it needs to stay exact under
 * duplicates and late corrections: event ids, URL paths and session ids.
 */
export class WindowAggregate {
  readonly eventIds: DistinctStrings;
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

  constructor(
    readonly siteId: string,
    readonly userId: string,
    readonly start: number,
    readonly end: number,
    snapshot?: WindowSnapshot,
  ) {
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

  /** Adds an event; false when its id was already counted (a browser retry). */
  add(event: EnrichedEvent): boolean {
    if (!this.eventIds.add(event.id)) return false;
    this.sessions.add(event.sessionId);
    this.paths.add(pathOf(event.url));
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
        this.engagedMs += event.engagedMs ?? 0;
        break;
    }
    return true;
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
}

/** The URL's path only: query and fragment do not make a page distinct. */
export function pathOf(url: string): string {
  const authorityStart = url.indexOf('://') + 3;
  let pathStart = -1;
  for (let i = authorityStart; i < url.length; i++) {
    const c = url[i];
    if (c === '/') {
      pathStart = i;
      break;
    }
    if (c === '?' || c === '#') break;
  }
  if (pathStart < 0) return '/';
  let end = url.length;
  for (let i = pathStart; i < url.length; i++) {
    const c = url[i];
    if (c === '?' || c === '#') {
      end = i;
      break;
    }
  }
  return url.slice(pathStart, end);
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
