import { WINDOW_SIZE_MS, type EnrichedEvent, type WindowResult } from '@clickstream/shared';
import { windowStartOf } from './window-assigner.js';
import { Watermark, type WatermarkSnapshot } from './watermark.js';
import { WindowAggregate, type WindowSnapshot } from './window-state.js';

export interface WindowOperatorConfig {
  windowSizeMs: number;
  outOfOrdernessMs: number;
  allowedLatenessMs: number;
  idleTimeoutMs: number;
}

export const DEFAULT_OPERATOR_CONFIG: WindowOperatorConfig = Object.freeze({
  windowSizeMs: WINDOW_SIZE_MS,
  outOfOrdernessMs: 2000,
  allowedLatenessMs: 60_000,
  idleTimeoutMs: 1000,
});

export type ProcessOutcome = 'counted' | 'duplicate' | 'late-counted' | 'too-late';

export interface LateEvent {
  event: EnrichedEvent;
  reason: string;
}

/** What one timer firing produced, in the order it must reach the sinks. */
export interface FiredOutput {
  results: WindowResult[];
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

interface Bucket {
  start: number;
  end: number;
  fired: boolean;
  /** By site, then user: nested maps spare a key string per event. */
  bySite: Map<string, Map<string, WindowAggregate>>;
  size: number;
}

function* aggregatesOf(bucket: Bucket): Generator<WindowAggregate> {
  for (const users of bucket.bySite.values()) yield* users.values();
}

function usersOf(bucket: Bucket, siteId: string): Map<string, WindowAggregate> {
  let users = bucket.bySite.get(siteId);
  if (!users) {
    users = new Map();
    bucket.bySite.set(siteId, users);
  }
  return users;
}

/**
 * Per-user tumbling event-time windows of one input partition, as a pure, clock-injected state
 * machine (Flink's WindowOperator with an event-time trigger and allowed lateness). Every key
 * lives in exactly one input partition, because the topic is keyed by user, so one operator per
 * partition sees all of a key's events.
 *
 * Invariant kept for checkpoints: after `onTimer`, every bucket whose end the watermark has
 * passed is fired, and no window awaits emission.
 */
export class WindowOperator {
  private readonly buckets = new Map<number, Bucket>();
  private readonly watermark: Watermark;
  private readonly pendingEmit = new Set<WindowAggregate>();
  private pendingLate: LateEvent[] = [];
  private readonly changed = new Set<WindowAggregate>();
  private removed: OperatorDelta['removals'] = [];
  private openWindowCount = 0;

  constructor(
    private readonly config: WindowOperatorConfig,
    now: number,
    restored?: OperatorSnapshot,
  ) {
    this.watermark = new Watermark(config.outOfOrdernessMs, config.idleTimeoutMs, restored?.watermark, now);
    for (const snapshot of restored?.windows ?? []) {
      const bucket = this.bucketFor(snapshot.start);
      const aggregate = new WindowAggregate(snapshot.siteId, snapshot.userId, bucket.start, bucket.end, snapshot);
      usersOf(bucket, snapshot.siteId).set(snapshot.userId, aggregate);
      bucket.size += 1;
      this.openWindowCount += 1;
    }
    for (const bucket of this.buckets.values()) bucket.fired = bucket.end <= this.watermark.value;
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

  get windowCount(): number {
    return this.openWindowCount;
  }

  process(event: EnrichedEvent, now: number): ProcessOutcome {
    const start = windowStartOf(event.eventTime, this.config.windowSizeMs);
    const end = start + this.config.windowSizeMs;
    const watermarkBefore = this.watermark.value;
    if (end + this.config.allowedLatenessMs <= watermarkBefore) {
      this.pendingLate.push({ event, reason: `window ${new Date(start).toISOString()} closed past allowed lateness` });
      this.watermark.observe(event.eventTime, now);
      return 'too-late';
    }
    const bucket = this.bucketFor(start);
    const users = usersOf(bucket, event.siteId);
    let aggregate = users.get(event.userId);
    if (!aggregate) {
      aggregate = new WindowAggregate(event.siteId, event.userId, bucket.start, bucket.end);
      users.set(event.userId, aggregate);
      bucket.size += 1;
      this.openWindowCount += 1;
    }
    this.watermark.observe(event.eventTime, now);
    if (!aggregate.add(event)) return 'duplicate';
    this.changed.add(aggregate);
    if (bucket.fired) {
      this.pendingEmit.add(aggregate);
      return 'late-counted';
    }
    return 'counted';
  }

  /** Advances the watermark by the clock when idle, fires closed windows and purges expired ones. */
  onTimer(now: number): FiredOutput {
    const watermark = this.watermark.onTimer(now);
    const results: WindowResult[] = [];
    const starts = [...this.buckets.keys()].sort((a, b) => a - b);
    for (const start of starts) {
      const bucket = this.buckets.get(start)!;
      if (bucket.end > watermark) break;
      if (!bucket.fired) {
        bucket.fired = true;
        for (const aggregate of aggregatesOf(bucket)) this.pendingEmit.add(aggregate);
      }
    }
    this.earliestUnfiredEnd = Number.POSITIVE_INFINITY;
    for (const bucket of this.buckets.values()) {
      if (!bucket.fired && bucket.end < this.earliestUnfiredEnd) this.earliestUnfiredEnd = bucket.end;
    }
    for (const aggregate of this.pendingEmit) {
      aggregate.revision += 1;
      this.changed.add(aggregate);
      results.push(aggregate.result(aggregate.revision));
    }
    this.pendingEmit.clear();
    for (const start of starts) {
      const bucket = this.buckets.get(start)!;
      if (bucket.end + this.config.allowedLatenessMs > watermark) break;
      for (const aggregate of aggregatesOf(bucket)) {
        this.changed.delete(aggregate);
        // A window opened and expired between two checkpoints never reached the state log.
        if (aggregate.persisted) this.removed.push({ siteId: aggregate.siteId, userId: aggregate.userId, start: aggregate.start });
      }
      this.openWindowCount -= bucket.size;
      this.buckets.delete(start);
    }
    const late = this.pendingLate;
    this.pendingLate = [];
    return { results, late };
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
    for (const bucket of this.buckets.values()) for (const a of aggregatesOf(bucket)) windows.push(a.snapshot());
    return { watermark: this.watermark.snapshot(), windows };
  }

  private bucketFor(start: number): Bucket {
    let bucket = this.buckets.get(start);
    if (!bucket) {
      const end = start + this.config.windowSizeMs;
      bucket = { start, end, fired: end <= this.watermark.value, bySite: new Map(), size: 0 };
      this.buckets.set(start, bucket);
      if (!bucket.fired && end < this.earliestUnfiredEnd) this.earliestUnfiredEnd = end;
    }
    return bucket;
  }
}
