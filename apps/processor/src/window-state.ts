import { MAX_ENGAGED_MS_PER_WINDOW, type EnrichedEvent, type WindowResult } from '@clickstream/shared';

/**
 * The aggregate of one (site, user, window). It keeps the sets it needs to stay exact under
 * duplicates and late corrections: event ids, URL paths and session ids.
 */
export class WindowAggregate {
  readonly eventIds: Set<string>;
  readonly paths: Set<string>;
  readonly sessions: Set<string>;
  pageViews: number;
  clicks: number;
  customEvents: number;
  engagedMs: number;
  /** -1 until first emitted; then the revision last emitted. */
  revision: number;

  constructor(
    readonly siteId: string,
    readonly userId: string,
    readonly start: number,
    readonly end: number,
    snapshot?: WindowSnapshot,
  ) {
    this.eventIds = new Set(snapshot?.ids);
    this.paths = new Set(snapshot?.paths);
    this.sessions = new Set(snapshot?.sessions);
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
    if (this.eventIds.has(event.id)) return false;
    this.eventIds.add(event.id);
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
      windowStart: new Date(this.start).toISOString(),
      windowEnd: new Date(this.end).toISOString(),
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
      ids: [...this.eventIds],
      paths: [...this.paths],
      sessions: [...this.sessions],
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
