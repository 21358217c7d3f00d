/** The contract's "Pipeline freshness" figures of one processor instance. */
export interface InstanceFreshness {
  eventToVisibleMs: { p50: number | null; p99: number | null; samples: number };
  watermarkLagMs: number | null;
  consumerLag: number;
  checkpointAgeMs: number | null;
  eventsInPerSec: number;
  resultsOutPerSec: number;
}

const WINDOW_MS = 60_000;
const MAX_SAMPLES = 20_000;

/**
 * Rolling one-minute figures: input events and results per second, and event-to-visible latency
 * - from the collector receiving the newest event of a result to the checkpoint that made the
 * result readable committing. Pure; the clock is passed in.
 */
export class FreshnessTracker {
  private readonly eventsPerSecond = new Map<number, number>();
  private readonly resultsPerSecond = new Map<number, number>();
  private latencies: Array<{ at: number; ms: number }> = [];
  private lastCheckpointAt: number | undefined;

  recordEvents(count: number, now: number): void {
    add(this.eventsPerSecond, Math.floor(now / 1000), count);
  }

  /** A checkpoint committed at `now`, making results visible whose newest events arrived at `receivedAt`. */
  recordCheckpoint(now: number, receivedAt: readonly number[]): void {
    this.lastCheckpointAt = now;
    add(this.resultsPerSecond, Math.floor(now / 1000), receivedAt.length);
    for (const at of receivedAt) if (at > 0 && at <= now) this.latencies.push({ at: now, ms: now - at });
    if (this.latencies.length > MAX_SAMPLES) this.latencies = this.latencies.slice(-MAX_SAMPLES);
  }

  snapshot(now: number, watermarks: readonly number[], consumerLag: number): InstanceFreshness {
    const since = now - WINDOW_MS;
    this.latencies = this.latencies.filter((l) => l.at > since);
    prune(this.eventsPerSecond, Math.floor(since / 1000));
    prune(this.resultsPerSecond, Math.floor(since / 1000));
    const sorted = this.latencies.map((l) => l.ms).sort((a, b) => a - b);
    const finite = watermarks.filter((w) => Number.isFinite(w));
    return {
      eventToVisibleMs: { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), samples: sorted.length },
      watermarkLagMs: finite.length > 0 ? Math.max(0, now - Math.min(...finite)) : null,
      consumerLag,
      checkpointAgeMs: this.lastCheckpointAt === undefined ? null : now - this.lastCheckpointAt,
      eventsInPerSec: sum(this.eventsPerSecond) / (WINDOW_MS / 1000),
      resultsOutPerSec: sum(this.resultsPerSecond) / (WINDOW_MS / 1000),
    };
  }
}

function add(counts: Map<number, number>, second: number, n: number): void {
  counts.set(second, (counts.get(second) ?? 0) + n);
}

function prune(counts: Map<number, number>, before: number): void {
  for (const second of counts.keys()) if (second <= before) counts.delete(second);
}

function sum(counts: Map<number, number>): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}

/** Nearest-rank quantile of sorted values; null without samples. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
