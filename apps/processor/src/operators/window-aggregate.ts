import { MAX_ENGAGED_MS_PER_WINDOW, pagePathOf, type EnrichedEvent, type WindowResult } from '@clickstream/shared';
import { idHash } from './id-hash.js';
import { sharedStrings } from './string-pool.js';

/** Above this many ids a window looks them up in a Set instead of scanning its array. */
const SCAN_LIMIT = 32;
/** Up to this many ids the array is replaced by an exact-size copy on each add. */
const COPY_LIMIT = 8;

const sharedPath = (path: string) => sharedStrings.share(path);

/**
 * The aggregate of one (site, user, window). It keeps what it needs to stay exact under
 * duplicates and late corrections - event ids (as 52-bit hashes, see id-hash.ts), URL paths and
 * session ids - in as little memory as it can: numbers in unboxed arrays, the first path and
 * session inline, the rest only when a window has more than one. Once its window is purged it is
 * kept a while longer as a retired holder of event ids, so a retry that lands in a neighbouring
 * window is still recognised (see WindowOperator).
 */
export class WindowAggregate {
  /** Created at the first id and grown by copying while small: V8 gives a pushed-to array 17 slots. */
  private ids: number[] | undefined;
  /** What only a few windows need (many ids, several paths or sessions, a late-id deadline). */
  private extra: WindowExtra | undefined;
  private path: string | undefined;
  private session: string | undefined;
  pageViews: number;
  clicks: number;
  customEvents: number;
  engagedMs: number;
  /** -1 until first emitted; then the revision last emitted. */
  revision: number;
  /** In the state log: restored, or written by a checkpoint. Its removal then needs logging too. */
  persisted: boolean;
  /** Set once the window no longer takes events (derived from the watermark): it only holds ids. */
  retired = false;
  /** Newest event's collector receipt, relative to the window start (for latency figures only). */
  private receivedDelta = 0;

  constructor(
    /** The key's strings, shared by all its windows. */
    private readonly key: { readonly siteId: string; readonly userId: string },
    readonly start: number,
    /** Window size, and how long after its end the ids are remembered; shared by all windows. */
    private readonly shape: WindowShape,
    snapshot?: WindowSnapshot,
  ) {
    this.persisted = snapshot !== undefined;
    this.pageViews = snapshot?.pageViews ?? 0;
    this.clicks = snapshot?.clicks ?? 0;
    this.customEvents = snapshot?.customEvents ?? 0;
    this.engagedMs = snapshot?.engagedMs ?? 0;
    this.revision = snapshot?.revision ?? -1;
    if (!snapshot) return;
    // State written before ids were hashed holds the id strings.
    for (const h of snapshot.idHashes ?? snapshot.ids?.map(idHash) ?? []) this.addIdHash(h);
    for (const p of snapshot.paths) this.addPath(p);
    for (const s of snapshot.sessions) this.addSession(s);
    if (snapshot.idsUntil !== undefined && snapshot.idsUntil !== this.derivedUntil) this.more().untilOverride = snapshot.idsUntil;
  }

  get end(): number {
    return this.start + this.shape.sizeMs;
  }

  private get derivedUntil(): number {
    return this.start + this.shape.sizeMs + this.shape.memoryMs;
  }

  /** Watermark until which its event ids are remembered; ids are no duplicates past it. */
  get idsUntil(): number {
    return this.extra?.untilOverride ?? this.derivedUntil;
  }

  set idsUntil(until: number) {
    if (until !== this.derivedUntil) this.more().untilOverride = until;
    else if (this.extra) this.extra.untilOverride = undefined;
  }

  get eventCount(): number {
    return this.ids?.length ?? 0;
  }

  /** When the newest event counted here reached the collector (0 when unknown). */
  get lastReceivedAt(): number {
    return this.receivedDelta === 0 ? 0 : this.start + this.receivedDelta;
  }

  hasIdHash(h: number): boolean {
    const set = this.extra?.idSet;
    return set ? set.has(h) : (this.ids?.includes(h) ?? false);
  }

  addIdHash(h: number): void {
    if (this.hasIdHash(h)) return;
    const ids = this.ids;
    if (!ids) this.ids = [h];
    else if (ids.length < COPY_LIMIT) this.ids = [...ids, h];
    else ids.push(h);
    const set = this.extra?.idSet;
    if (set) set.add(h);
    else if (this.ids!.length > SCAN_LIMIT) this.more().idSet = new Set(this.ids);
  }

  /** Counts an event whose id (hashed: `h`) the operator found new for this user. */
  add(event: EnrichedEvent, h: number): void {
    this.addIdHash(h);
    const delta = event.receivedAt - this.start;
    if (delta > this.receivedDelta) this.receivedDelta = delta;
    this.addSession(event.sessionId);
    this.addPath(pagePathOf(event.url));
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
    this.ids = undefined;
    if (this.extra) this.extra.idSet = undefined;
  }

  addEngagedMs(ms: number): void {
    this.engagedMs += ms;
  }

  private addPath(path: string): void {
    if (this.path === undefined) this.path = sharedPath(path);
    else if (this.path !== path && !this.extra?.otherPaths?.includes(path)) this.more().otherPaths = [...(this.extra?.otherPaths ?? []), sharedPath(path)];
  }

  private addSession(session: string): void {
    if (this.session === undefined) this.session = session;
    else if (this.session !== session && !this.extra?.otherSessions?.includes(session)) this.more().otherSessions = [...(this.extra?.otherSessions ?? []), session];
  }

  get siteId(): string {
    return this.key.siteId;
  }

  get userId(): string {
    return this.key.userId;
  }

  private more(): WindowExtra {
    return (this.extra ??= {});
  }

  private get pathList(): string[] {
    return this.path === undefined ? [] : [this.path, ...(this.extra?.otherPaths ?? [])];
  }

  private get sessionList(): string[] {
    return this.session === undefined ? [] : [this.session, ...(this.extra?.otherSessions ?? [])];
  }

  result(revision: number): WindowResult {
    return {
      siteId: this.key.siteId,
      userId: this.key.userId,
      windowStart: isoOf(this.start),
      windowEnd: isoOf(this.end),
      events: this.eventCount,
      pageViews: this.pageViews,
      clicks: this.clicks,
      customEvents: this.customEvents,
      uniquePages: this.path === undefined ? 0 : 1 + (this.extra?.otherPaths?.length ?? 0),
      engagedMs: Math.min(Math.round(this.engagedMs), MAX_ENGAGED_MS_PER_WINDOW),
      sessions: this.session === undefined ? 0 : 1 + (this.extra?.otherSessions?.length ?? 0),
      revision,
    };
  }

  snapshot(): WindowSnapshot {
    return {
      siteId: this.key.siteId,
      userId: this.key.userId,
      start: this.start,
      idHashes: this.ids?.slice() ?? [],
      paths: this.pathList,
      sessions: this.sessionList,
      pageViews: this.pageViews,
      clicks: this.clicks,
      customEvents: this.customEvents,
      engagedMs: this.engagedMs,
      revision: this.revision,
      ...(this.extra?.untilOverride !== undefined ? { idsUntil: this.extra.untilOverride } : {}),
    };
  }
}

export interface WindowShape {
  readonly sizeMs: number;
  /** Allowed lateness + retry horizon. */
  readonly memoryMs: number;
}

interface WindowExtra {
  idSet?: Set<number> | undefined;
  otherPaths?: string[];
  otherSessions?: string[];
  untilOverride?: number | undefined;
}

export interface WindowSnapshot {
  siteId: string;
  userId: string;
  start: number;
  /** Event ids as 52-bit hashes. */
  idHashes?: number[];
  /** Event ids as written by versions before hashing; read, never written. */
  ids?: string[];
  paths: string[];
  sessions: string[];
  pageViews: number;
  clicks: number;
  customEvents: number;
  engagedMs: number;
  revision: number;
  /** Only where it differs from end + allowed lateness + retry horizon (a holder of too-late ids). */
  idsUntil?: number;
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
