import { windowStartOf, type EnrichedEvent, type WindowResult } from '@clickstream/shared';
import { Watermark, type WatermarkSnapshot } from './watermark.js';
import { WindowAggregate, type WindowShape, type WindowSnapshot } from './window-aggregate.js';
import { ErasureFilter } from './erasure.js';
import { idHash } from './id-hash.js';

export interface WindowOperatorConfig {
  windowSizeMs: number;
  outOfOrdernessMs: number;
  allowedLatenessMs: number;
  idleTimeoutMs: number;
  /**
   * How much longer than its window an event id is remembered, so that a retry whose event time
   * differs from the first occurrence's (a fresh `sentAt`) still counts once: a retry up to this
   * far after the first occurrence's window is recognised in every window it can land in.
   */
  retryHorizonMs: number;
  /** Count events the collector flagged as bots (COUNT_BOTS). */
  countBots: boolean;
}

export type ProcessOutcome = 'counted' | 'duplicate' | 'late-counted' | 'too-late' | 'bot' | 'erased';

export interface LateEvent {
  event: EnrichedEvent;
  reason: string;
}

/** What one timer firing produced, in the order it must reach the sinks. */
export interface FiredOutput {
  results: WindowResult[];
  /** Per result, when its newest event reached the collector (0 when unknown): for latency. */
  receivedAt: number[];
  late: LateEvent[];
}

/** State of one input partition, as stored at a checkpoint. */
export interface OperatorSnapshot {
  watermark: WatermarkSnapshot;
  windows: WindowSnapshot[];
}

/** Changes since the last checkpoint, so a checkpoint writes only what moved. */
export interface OperatorDelta {
  watermark: WatermarkSnapshot;
  upserts: WindowSnapshot[];
  removals: Array<{ siteId: string; userId: string; start: number }>;
}

/** Engaged time that fell in windows already past allowed lateness (dropped, see the contract). */
export interface OperatorCounters {
  droppedEngagedMs: number;
}

/**
 * Start of each key's holder of too-late ids: before every window (window starts are multiples of
 * the window size), so it sorts first and never matches a window.
 */
const LATE_IDS_START = -1;

interface Bucket {
  start: number;
  end: number;
  fired: boolean;
  aggregates: WindowAggregate[];
}

/**
 * Keyed state of one (site, user): its windows still held, oldest first, including retired ones
 * that only remember event ids. A handful per user, so scans are cheaper than indexes.
 */
interface KeyState {
  /** One copy of the key's strings, shared by all its windows. */
  siteId: string;
  userId: string;
  windows: WindowAggregate[];
}

/**
 * Per-user tumbling event-time windows of one input partition, as a pure, clock-injected state
 * machine (Flink's WindowOperator with an event-time trigger and allowed lateness). Every key
 * lives in exactly one input partition, because the topic is keyed by user, so one operator per
 * partition sees all of a key's events.
 *
 * Dedup is per key, across windows: an event id counts at its first occurrence in the log, in the
 * window of that occurrence's event time, and every later occurrence while the id is remembered is
 * a duplicate - wherever its own event time falls. An id is remembered until the watermark passes
 * its window's end + allowed lateness + `retryHorizonMs`; an id whose first occurrence was too late
 * is remembered for `windowSizeMs + retryHorizonMs` past the watermark it arrived at. Decisions
 * compare with the watermark when the event arrives, never with when timers ran, so they do not
 * depend on checkpoint timing.
 *
 * Invariant kept for checkpoints: after `onTimer`, every bucket whose end the watermark has
 * passed is fired, and no window awaits emission.
 */
export class WindowOperator {
  private readonly buckets = new Map<number, Bucket>();
  /** Retired aggregates by the watermark at which they are dropped. */
  private readonly expiries = new Map<number, WindowAggregate[]>();
  private readonly keys = new Map<string, Map<string, KeyState>>();
  private readonly watermark: Watermark;
  private readonly pendingEmit = new Set<WindowAggregate>();
  private pendingLate: LateEvent[] = [];
  private readonly changed = new Set<WindowAggregate>();
  private removed: OperatorDelta['removals'] = [];
  private heldWindowCount = 0;
  private retiredCount = 0;
  readonly counters: OperatorCounters = { droppedEngagedMs: 0 };
  private readonly erasures = new ErasureFilter();
  private readonly shape: WindowShape;

  constructor(
    private readonly config: WindowOperatorConfig,
    now: number,
    restored?: OperatorSnapshot,
  ) {
    this.watermark = new Watermark(config.outOfOrdernessMs, config.idleTimeoutMs, restored?.watermark, now);
    this.shape = Object.freeze({ sizeMs: config.windowSizeMs, memoryMs: config.allowedLatenessMs + config.retryHorizonMs });
    const watermark = this.watermark.value;
    for (const snapshot of restored?.windows ?? []) {
      const end = snapshot.start + config.windowSizeMs;
      const key = this.keyState(snapshot.siteId, snapshot.userId);
      const aggregate = new WindowAggregate(key, snapshot.start, this.shape, snapshot);
      key.windows.push(aggregate);
      if (end + config.allowedLatenessMs <= watermark) {
        this.retire(aggregate);
      } else {
        this.hold(aggregate);
      }
    }
    for (const users of this.keys.values()) for (const key of users.values()) key.windows.sort((a, b) => a.start - b.start);
    for (const bucket of this.buckets.values()) bucket.fired = bucket.end <= watermark;
    this.recomputeEarliestUnfired();
  }

  get currentWatermark(): number {
    return this.watermark.value;
  }

  /** End of the earliest window the watermark has passed but that has not fired yet, if any. */
  get dueWindowEnd(): number | undefined {
    return this.earliestUnfiredEnd <= this.watermark.value ? this.earliestUnfiredEnd : undefined;
  }

  /** End of the earliest bucket not fired yet (Infinity when none): kept so the check is O(1). */
  private earliestUnfiredEnd = Number.POSITIVE_INFINITY;

  /** Windows that still take events (open, or fired and within allowed lateness). */
  get windowCount(): number {
    return this.heldWindowCount;
  }

  /** Purged windows kept only for their event ids. */
  get retiredWindowCount(): number {
    return this.retiredCount;
  }

  process(event: EnrichedEvent, now: number): ProcessOutcome {
    const watermarkBefore = this.watermark.value;
    this.watermark.observe(event.eventTime, now);
    if (event.isBot && !this.config.countBots) return 'bot';
    if (this.erasures.erases(event.siteId, event.userId, event.eventTime)) return 'erased';
    const key = this.keyState(event.siteId, event.userId);
    const h = idHash(event.id);
    for (const window of key.windows) {
      if (window.idsUntil > watermarkBefore && window.hasIdHash(h)) return 'duplicate';
    }
    const { windowSizeMs, allowedLatenessMs } = this.config;
    const start = windowStartOf(event.eventTime, windowSizeMs);
    const end = start + windowSizeMs;
    if (end + allowedLatenessMs <= watermarkBefore) {
      this.rememberLateId(key, h, watermarkBefore);
      this.pendingLate.push({ event, reason: `window ${new Date(start).toISOString()} closed past allowed lateness` });
      return 'too-late';
    }
    const aggregate = this.heldWindow(key, start);
    aggregate.add(event, h);
    this.touch(aggregate);
    if (event.type === 'engagement' && event.engagedMs) this.spreadEngagement(key, event, watermarkBefore);
    return this.buckets.get(start)!.fired ? 'late-counted' : 'counted';
  }

  /**
   * Gives each window still held its overlap with the engagement interval [t − E, t); time that
   * falls in windows past allowed lateness is dropped and counted.
   */
  private spreadEngagement(key: KeyState, event: EnrichedEvent, watermarkBefore: number): void {
    const { windowSizeMs, allowedLatenessMs } = this.config;
    const to = event.eventTime;
    const from = to - event.engagedMs!;
    for (let start = windowStartOf(from, windowSizeMs); start < to; start += windowSizeMs) {
      const overlap = Math.min(to, start + windowSizeMs) - Math.max(from, start);
      if (overlap <= 0) continue;
      if (start + windowSizeMs + allowedLatenessMs <= watermarkBefore) {
        this.counters.droppedEngagedMs += overlap;
        continue;
      }
      const aggregate = this.heldWindow(key, start);
      aggregate.addEngagedMs(overlap);
      this.touch(aggregate);
    }
  }

  /** Marks a changed window for the state log and, if it already fired, for a new revision. */
  private touch(aggregate: WindowAggregate): void {
    this.changed.add(aggregate);
    if (this.buckets.get(aggregate.start)!.fired) this.pendingEmit.add(aggregate);
  }

  /** Advances the watermark by the clock when idle, fires closed windows and purges expired ones. */
  onTimer(now: number): FiredOutput {
    const watermark = this.watermark.onTimer(now);
    const results: WindowResult[] = [];
    const receivedAt: number[] = [];
    const starts = [...this.buckets.keys()].sort((a, b) => a - b);
    for (const start of starts) {
      const bucket = this.buckets.get(start)!;
      if (bucket.end > watermark) break;
      if (!bucket.fired) {
        bucket.fired = true;
        for (const aggregate of bucket.aggregates) this.pendingEmit.add(aggregate);
      }
    }
    this.recomputeEarliestUnfired();
    for (const aggregate of this.pendingEmit) {
      aggregate.revision += 1;
      this.changed.add(aggregate);
      results.push(aggregate.result(aggregate.revision));
      receivedAt.push(aggregate.lastReceivedAt);
    }
    this.pendingEmit.clear();
    for (const start of starts) {
      const bucket = this.buckets.get(start)!;
      if (bucket.end + this.config.allowedLatenessMs > watermark) break;
      this.buckets.delete(start);
      this.heldWindowCount -= bucket.aggregates.length;
      for (const aggregate of bucket.aggregates) this.retire(aggregate);
    }
    this.dropExpired(watermark);
    const late = this.pendingLate;
    this.pendingLate = [];
    return { results, receivedAt, late };
  }

  /**
   * Forgets a user up to `erasedAt`: their windows starting at or before it (held or retired, ids
   * included) leave state without a result, and their later-arriving events up to it are dropped.
   * Their rows and records were deleted by whoever recorded the erasure.
   */
  erase(siteId: string, userId: string, erasedAt: number): void {
    this.erasures.add({ siteId, userId, erasedAt });
    const key = this.keys.get(siteId)?.get(userId);
    if (!key) return;
    for (const window of [...key.windows]) {
      if (window.start > erasedAt) continue;
      if (window.retired) {
        this.removeExpiry(window);
        this.retiredCount -= 1;
      } else {
        const bucket = this.buckets.get(window.start)!;
        bucket.aggregates.splice(bucket.aggregates.indexOf(window), 1);
        this.heldWindowCount -= 1;
      }
      this.pendingEmit.delete(window);
      this.changed.delete(window);
      if (window.persisted) this.removed.push({ siteId, userId, start: window.start });
      key.windows.splice(key.windows.indexOf(window), 1);
    }
    if (key.windows.length === 0) {
      const users = this.keys.get(siteId)!;
      users.delete(userId);
      if (users.size === 0) this.keys.delete(siteId);
    }
  }

  /** What changed since the previous call; the caller persists it in its checkpoint. */
  takeDelta(): OperatorDelta {
    const delta: OperatorDelta = {
      watermark: this.watermark.snapshot(),
      upserts: [],
      removals: this.removed,
    };
    for (const aggregate of this.changed) {
      delta.upserts.push(aggregate.snapshot());
      aggregate.persisted = true;
    }
    this.changed.clear();
    this.removed = [];
    return delta;
  }

  snapshot(): OperatorSnapshot {
    const windows: WindowSnapshot[] = [];
    for (const users of this.keys.values()) for (const key of users.values()) for (const a of key.windows) windows.push(a.snapshot());
    return { watermark: this.watermark.snapshot(), windows };
  }


  private keyState(siteId: string, userId: string): KeyState {
    let users = this.keys.get(siteId);
    if (!users) {
      users = new Map();
      this.keys.set(siteId, users);
    }
    let key = users.get(userId);
    if (!key) {
      key = { siteId, userId, windows: [] };
      users.set(userId, key);
    }
    return key;
  }

  /** The key's window starting at `start`, created when missing; the caller checked lateness. */
  private heldWindow(key: KeyState, start: number): WindowAggregate {
    const windows = key.windows;
    let index = windows.length;
    while (index > 0 && windows[index - 1]!.start >= start) {
      index -= 1;
      const candidate = windows[index]!;
      if (candidate.start === start && !candidate.retired) return candidate;
    }
    const aggregate = new WindowAggregate(key, start, this.shape);
    // An exact-size array for a key's first window: most keys never get a second.
    if (windows.length === 0) key.windows = [aggregate];
    else windows.splice(index, 0, aggregate);
    this.hold(aggregate);
    return aggregate;
  }

  private hold(aggregate: WindowAggregate): void {
    let bucket = this.buckets.get(aggregate.start);
    if (!bucket) {
      bucket = { start: aggregate.start, end: aggregate.end, fired: aggregate.end <= this.watermark.value, aggregates: [] };
      this.buckets.set(aggregate.start, bucket);
      if (!bucket.fired && bucket.end < this.earliestUnfiredEnd) this.earliestUnfiredEnd = bucket.end;
    }
    bucket.aggregates.push(aggregate);
    this.heldWindowCount += 1;
  }

  /** The window takes no more events; its ids stay until `idsUntil`. */
  private retire(aggregate: WindowAggregate): void {
    // Retirement is derived from the watermark on restore, so it needs no state-log entry.
    aggregate.retired = true;
    this.retiredCount += 1;
    this.addExpiry(aggregate);
  }

  private addExpiry(aggregate: WindowAggregate): void {
    const due = this.expiries.get(aggregate.idsUntil);
    if (due) due.push(aggregate);
    else this.expiries.set(aggregate.idsUntil, [aggregate]);
  }

  /**
   * A too-late event's id must not count through a retry either. Each key has one holder of such
   * ids, apart from its windows (start LATE_IDS_START), remembered until `windowSizeMs +
   * retryHorizonMs` past the watermark the last of them arrived at. A holder whose time is up is
   * emptied whether or not a timer has dropped it yet, so the outcome does not depend on timing.
   */
  private rememberLateId(key: KeyState, h: number, watermark: number): void {
    const until = watermark + this.config.windowSizeMs + this.config.retryHorizonMs;
    let holder = key.windows[0]?.start === LATE_IDS_START ? key.windows[0] : undefined;
    if (holder) {
      this.removeExpiry(holder);
      if (holder.idsUntil <= watermark) holder.forgetIds();
      holder.idsUntil = until;
      this.addExpiry(holder);
    } else {
      holder = new WindowAggregate(key, LATE_IDS_START, this.shape);
      holder.idsUntil = until;
      key.windows = [holder, ...key.windows];
      this.retire(holder);
    }
    holder.addIdHash(h);
    this.changed.add(holder);
  }

  private removeExpiry(aggregate: WindowAggregate): void {
    const due = this.expiries.get(aggregate.idsUntil);
    if (!due) return;
    const index = due.indexOf(aggregate);
    if (index >= 0) due.splice(index, 1);
  }

  private dropExpired(watermark: number): void {
    if (this.expiries.size === 0) return;
    const due = [...this.expiries.keys()].filter((until) => until <= watermark);
    for (const until of due) {
      for (const aggregate of this.expiries.get(until)!) {
        this.retiredCount -= 1;
        this.changed.delete(aggregate);
        // A window opened and dropped between two checkpoints never reached the state log.
        if (aggregate.persisted) this.removed.push({ siteId: aggregate.siteId, userId: aggregate.userId, start: aggregate.start });
        const users = this.keys.get(aggregate.siteId)!;
        const key = users.get(aggregate.userId)!;
        const index = key.windows.indexOf(aggregate);
        if (index >= 0) key.windows.splice(index, 1);
        if (key.windows.length === 0) {
          users.delete(aggregate.userId);
          if (users.size === 0) this.keys.delete(aggregate.siteId);
        }
      }
      this.expiries.delete(until);
    }
  }

  private recomputeEarliestUnfired(): void {
    this.earliestUnfiredEnd = Number.POSITIVE_INFINITY;
    for (const bucket of this.buckets.values()) {
      if (!bucket.fired && bucket.end < this.earliestUnfiredEnd) this.earliestUnfiredEnd = bucket.end;
    }
  }
}
