import { pagePathOf, visitAttributionOf, type EnrichedEvent, type VisitResult } from '@clickstream/shared';
import { sharedStrings } from './string-pool.js';

export interface SessionWindowsConfig {
  /** Inactivity that ends a visit (SESSION_GAP_MS). */
  gapMs: number;
  allowedLatenessMs: number;
}

/** An event attribute that depends on which event is first (or last): ties go by event id. */
interface Mark {
  time: number;
  id: string;
}

const before = (a: Mark, b: Mark) => a.time < b.time || (a.time === b.time && a.id < b.id);

/** What a visit takes from its first event. */
interface Origin extends Mark {
  source: string;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  country: string | null;
  browser: string;
  os: string;
  deviceType: string;
}

interface PageMark extends Mark {
  path: string;
}

/** One visit as held in state and in the state log. */
export interface VisitSnapshot {
  /** Unique within the partition for ever: visits merge and move, so their start is no identity. */
  vid: number;
  siteId: string;
  userId: string;
  start: number;
  end: number;
  pageViews: number;
  events: number;
  /** Clicks and custom events: a visit with any is no bounce. */
  interactions: number;
  origin: Origin;
  entry: PageMark | null;
  exit: PageMark | null;
  /** -1 until first emitted. */
  revision: number;
  /** Start under which it was last emitted: a different start now means a deletion marker there. */
  emittedStart: number | null;
}

export interface SessionsDelta {
  upserts: VisitSnapshot[];
  removals: number[];
}

/** A visit that no longer exists under the start it was emitted with. */
export interface VisitDeletion {
  siteId: string;
  userId: string;
  start: number;
}

export interface FiredVisits {
  visits: VisitResult[];
  deletions: VisitDeletion[];
}

/**
 * Visits as event-time session windows per (site, user), merging like Flink's
 * EventTimeSessionWindows: an event joins every visit it falls within the gap of, and a late event
 * that bridges two visits merges them (the later one is deleted, the earlier one revised). Visits
 * are emitted early: each timer emits every visit that changed since the last one, once, with
 * `open` until the watermark passes end + gap + allowed lateness - then a final emission, and the
 * visit leaves state. Decisions use the watermark an event arrived at, never timer timing, so a
 * replay from a checkpoint reaches the same visits.
 */
export class SessionWindows {
  private readonly keys = new Map<string, Map<string, VisitSnapshot[]>>();
  private readonly dirty = new Set<VisitSnapshot>();
  /** Visits by the second in which the watermark closes them (see collectClosed). */
  private readonly closing = new Map<number, VisitSnapshot[]>();
  private readonly persisted = new Set<number>();
  private changedForLog = new Set<VisitSnapshot>();
  private removedForLog: number[] = [];
  private pendingDeletions: VisitDeletion[] = [];
  private nextVid: number;
  private count = 0;

  constructor(
    private readonly config: SessionWindowsConfig,
    restored?: { visits: VisitSnapshot[]; nextVid: number },
  ) {
    this.nextVid = restored?.nextVid ?? 1;
    for (const visit of restored?.visits ?? []) {
      this.visitsOf(visit.siteId, visit.userId).push(visit);
      this.persisted.add(visit.vid);
      this.nextVid = Math.max(this.nextVid, visit.vid + 1);
      this.count += 1;
      this.indexClosing(visit);
    }
    for (const users of this.keys.values()) for (const visits of users.values()) visits.sort((a, b) => a.start - b.start);
  }

  get visitCount(): number {
    return this.count;
  }

  /** The next visit id: saved with each checkpoint so ids are never reused after a restore. */
  get visitIdWatermark(): number {
    return this.nextVid;
  }

  /** Adds an event the window operator counted (spread engaged time never reaches here). */
  add(event: EnrichedEvent, watermark: number): void {
    const { gapMs, allowedLatenessMs } = this.config;
    const t = event.eventTime;
    const visits = this.visitsOf(event.siteId, event.userId);
    // A visit whose final emission is due (or done) is closed for good: the event starts anew.
    // Nearly always one visit or none: found without allocating.
    let first: VisitSnapshot | undefined;
    let joined: VisitSnapshot[] | undefined;
    for (const v of visits) {
      if (v.end + gapMs + allowedLatenessMs > watermark && t - v.end < gapMs && v.start - t < gapMs) {
        if (first === undefined) first = v;
        else (joined ??= [first]).push(v);
      }
    }
    let visit: VisitSnapshot;
    let endBefore = Number.NaN;
    if (first === undefined) {
      visit = this.newVisit(event);
      // Most users have one visit held: an exact-size list (a pushed-to one gets 17 slots).
      const list = visits.length === 0 ? [visit] : [...visits, visit].sort((a, b) => a.start - b.start);
      this.keys.get(event.siteId)!.set(event.userId, list);
      this.count += 1;
    } else {
      visit = first;
      endBefore = visit.end;
      for (const other of joined?.slice(1) ?? []) this.mergeInto(visit, other, visits);
    }
    this.addTo(visit, event);
    if (visit.end !== endBefore) this.indexClosing(visit);
    this.dirty.add(visit);
    this.changedForLog.add(visit);
  }

  /**
   * Emits the final state of the visits the watermark closed and - unless `emitOpen` is false -
   * every open visit that changed. During a catch-up the caller passes false: open visits then
   * wait (still changed, still in the state log) instead of being rewritten at every checkpoint,
   * and go out when the pipeline is live again or when they close.
   */
  onTimer(watermark: number, emitOpen = true): FiredVisits {
    const { gapMs, allowedLatenessMs } = this.config;
    const visits: VisitResult[] = [];
    const deletions = this.pendingDeletions;
    this.pendingDeletions = [];
    this.collectClosed(watermark);
    for (const visit of this.dirty) {
      const open = visit.end + gapMs + allowedLatenessMs > watermark;
      if (open && !emitOpen) continue;
      // Leaving the set while it is iterated is safe: a deleted entry is never visited again.
      this.dirty.delete(visit);
      if (visit.emittedStart !== null && visit.emittedStart !== visit.start) {
        deletions.push({ siteId: visit.siteId, userId: visit.userId, start: visit.emittedStart });
      }
      visit.revision += 1;
      visit.emittedStart = visit.start;
      visits.push(resultOf(visit, open));
      if (open) {
        this.changedForLog.add(visit);
      } else {
        this.remove(visit);
      }
    }

    if (deletions.length === 0) return { visits, deletions };
    // A visit emitted again under a start that had a pending deletion is alive there after all.
    const emitted = new Set(visits.map((v) => `${v.siteId}\u0000${v.userId}\u0000${v.sessionStart}`));
    return {
      visits,
      deletions: deletions.filter((d) => !emitted.has(`${d.siteId}\u0000${d.userId}\u0000${new Date(d.start).toISOString()}`)),
    };
  }

  /**
   * Marks every visit the watermark has closed for its final emission. Visits are indexed by the
   * second in which they close, so a timer looks at the visits due, not at every visit held; an
   * index entry goes stale when its visit grows or leaves, and is dropped when met.
   */
  private collectClosed(watermark: number): void {
    const { gapMs, allowedLatenessMs } = this.config;
    for (const [second, list] of this.closing) {
      if (second * 1000 > watermark) continue;
      const waiting = list.filter((visit) => {
        if (visit.vid < 0 || this.closingSecond(visit) !== second) return false;
        if (visit.end + gapMs + allowedLatenessMs > watermark) return true;
        this.dirty.add(visit);
        return false;
      });
      if (waiting.length === 0) this.closing.delete(second);
      else this.closing.set(second, waiting);
    }
  }

  private closingSecond(visit: VisitSnapshot): number {
    return Math.floor((visit.end + this.config.gapMs + this.config.allowedLatenessMs) / 1000);
  }

  /** (Re-)indexes a visit under the second it would close in; call when its end moves. */
  private indexClosing(visit: VisitSnapshot): void {
    const second = this.closingSecond(visit);
    const list = this.closing.get(second);
    if (list) list.push(visit);
    else this.closing.set(second, [visit]);
  }

  /** Drops the user's visits that started at or before `erasedAt`, without emitting them. */
  erase(siteId: string, userId: string, erasedAt: number): void {
    const visits = this.keys.get(siteId)?.get(userId);
    for (const visit of [...(visits ?? [])]) {
      if (visit.start > erasedAt) continue;
      this.dirty.delete(visit);
      this.remove(visit);
    }
    this.pendingDeletions = this.pendingDeletions.filter((d) => d.siteId !== siteId || d.userId !== userId || d.start > erasedAt);
  }

  takeDelta(): SessionsDelta {
    const delta: SessionsDelta = { upserts: [...this.changedForLog].map(copyOf), removals: this.removedForLog };
    for (const visit of this.changedForLog) this.persisted.add(visit.vid);
    this.changedForLog = new Set();
    this.removedForLog = [];
    return delta;
  }

  snapshot(): VisitSnapshot[] {
    const out: VisitSnapshot[] = [];
    for (const users of this.keys.values()) for (const list of users.values()) for (const v of list) out.push(copyOf(v));
    return out;
  }

  private visitsOf(siteId: string, userId: string): VisitSnapshot[] {
    let users = this.keys.get(siteId);
    if (!users) {
      users = new Map();
      this.keys.set(siteId, users);
    }
    let visits = users.get(userId);
    if (!visits) {
      visits = [];
      users.set(userId, visits);
    }
    return visits;
  }

  private newVisit(event: EnrichedEvent): VisitSnapshot {
    const attribution = visitAttributionOf(event.url, event.referrer);
    return {
      vid: this.nextVid++,
      siteId: event.siteId,
      userId: event.userId,
      start: event.eventTime,
      end: event.eventTime,
      pageViews: 0,
      events: 0,
      interactions: 0,
      origin: {
        time: event.eventTime,
        id: event.id,
        source: sharedStrings.share(attribution.source),
        utmSource: sharedStrings.share(attribution.utmSource),
        utmMedium: sharedStrings.share(attribution.utmMedium),
        utmCampaign: sharedStrings.share(attribution.utmCampaign),
        country: sharedStrings.share(event.country ?? null),
        browser: sharedStrings.share(event.browser),
        os: sharedStrings.share(event.os),
        deviceType: sharedStrings.share(event.deviceType),
      },
      entry: null,
      exit: null,
      revision: -1,
      emittedStart: null,
    };
  }

  private addTo(visit: VisitSnapshot, event: EnrichedEvent): void {
    const mark = { time: event.eventTime, id: event.id };
    visit.start = Math.min(visit.start, mark.time);
    visit.end = Math.max(visit.end, mark.time);
    visit.events += 1;
    if (event.type === 'click' || event.type === 'custom') visit.interactions += 1;
    if (before(mark, visit.origin)) {
      const first = this.newVisit(event).origin;
      visit.origin = first;
    }
    if (event.type === 'page_view') {
      visit.pageViews += 1;
      const page = { ...mark, path: sharedStrings.share(pagePathOf(event.url)) };
      if (!visit.entry || before(page, visit.entry)) visit.entry = page;
      if (!visit.exit || before(visit.exit, page)) visit.exit = page;
    }
  }

  /** `other` joins `into` (the earlier visit, which keeps its identity) and leaves state. */
  private mergeInto(into: VisitSnapshot, other: VisitSnapshot, visits: VisitSnapshot[]): void {
    into.start = Math.min(into.start, other.start);
    into.end = Math.max(into.end, other.end);
    into.pageViews += other.pageViews;
    into.events += other.events;
    into.interactions += other.interactions;
    if (before(other.origin, into.origin)) into.origin = other.origin;
    if (other.entry && (!into.entry || before(other.entry, into.entry))) into.entry = other.entry;
    if (other.exit && (!into.exit || before(into.exit, other.exit))) into.exit = other.exit;
    into.revision = Math.max(into.revision, other.revision);
    if (other.emittedStart !== null) this.pendingDeletions.push({ siteId: other.siteId, userId: other.userId, start: other.emittedStart });
    visits.splice(visits.indexOf(other), 1);
    this.dirty.delete(other);
    this.changedForLog.delete(other);
    if (this.persisted.delete(other.vid)) this.removedForLog.push(other.vid);
    this.count -= 1;
    other.vid = -1;
  }

  private remove(visit: VisitSnapshot): void {
    const users = this.keys.get(visit.siteId)!;
    const visits = users.get(visit.userId)!;
    visits.splice(visits.indexOf(visit), 1);
    if (visits.length === 0) {
      users.delete(visit.userId);
      if (users.size === 0) this.keys.delete(visit.siteId);
    }
    this.changedForLog.delete(visit);
    if (this.persisted.delete(visit.vid)) this.removedForLog.push(visit.vid);
    this.count -= 1;
    // Gone: an index entry that still points here is stale.
    visit.vid = -1;
  }
}

function copyOf(visit: VisitSnapshot): VisitSnapshot {
  return { ...visit, origin: { ...visit.origin }, entry: visit.entry && { ...visit.entry }, exit: visit.exit && { ...visit.exit } };
}

const iso = (ms: number) => new Date(ms).toISOString();

function resultOf(visit: VisitSnapshot, open: boolean): VisitResult {
  const { origin } = visit;
  return {
    siteId: visit.siteId,
    userId: visit.userId,
    sessionStart: iso(visit.start),
    sessionEnd: iso(visit.end),
    durationMs: visit.end - visit.start,
    pageViews: visit.pageViews,
    events: visit.events,
    entryPage: visit.entry?.path ?? null,
    exitPage: visit.exit?.path ?? null,
    source: origin.source,
    utmSource: origin.utmSource,
    utmMedium: origin.utmMedium,
    utmCampaign: origin.utmCampaign,
    country: origin.country,
    browser: origin.browser,
    os: origin.os,
    deviceType: origin.deviceType,
    bounce: visit.pageViews === 1 && visit.interactions === 0,
    open,
    revision: visit.revision,
  };
}
