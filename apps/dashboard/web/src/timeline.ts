/**
 * Pure chart data: the API's per-window timeline, bucketed for longer ranges and with empty
 * buckets filled, so a quiet minute shows as zero rather than as a line drawn across it.
 */
import type { TimelinePoint } from '@clickstream/shared';

/** One 5-second point of GET /api/v1/metrics/timeline. */
export type TimelineWindow = TimelinePoint;

export interface ChartPoint {
  t: number;
  /** Most users active in one 5-second window of the bucket (distinct users can't be summed). */
  activeUsers: number;
  eventsPerSecond: number;
  events: number;
  clicks: number;
  pageViews: number;
  engagedSeconds: number;
}

export interface Totals {
  events: number;
  clicks: number;
  pageViews: number;
  engagedMs: number;
  peakActiveUsers: number;
}

export function toChartPoints(windows: readonly TimelineWindow[], from: number, to: number, bucketMs: number): ChartPoint[] {
  const start = from - (from % bucketMs);
  const buckets = new Map<number, ChartPoint>();
  for (let t = start; t < to; t += bucketMs) {
    buckets.set(t, { t, activeUsers: 0, eventsPerSecond: 0, events: 0, clicks: 0, pageViews: 0, engagedSeconds: 0 });
  }
  for (const w of windows) {
    const ws = Date.parse(w.windowStart);
    if (!Number.isFinite(ws)) continue;
    const point = buckets.get(ws - (ws % bucketMs));
    if (!point) continue;
    point.activeUsers = Math.max(point.activeUsers, w.activeUsers);
    point.events += w.events;
    point.clicks += w.clicks;
    point.pageViews += w.pageViews;
    point.engagedSeconds += w.engagedMs / 1000;
  }
  for (const point of buckets.values()) point.eventsPerSecond = point.events / (bucketMs / 1000);
  return [...buckets.values()];
}

/**
 * Windows close a few seconds after they end (out-of-orderness, idle timeout, commit), so the
 * newest buckets are empty because they are not done, not because nobody was there. Drawing
 * them as zero makes every live chart dip at its right edge; they are left off instead.
 */
export const OPEN_WINDOW_GRACE_MS = 15_000;

export function trimOpenBuckets(points: readonly ChartPoint[], bucketMs: number, now: number): ChartPoint[] {
  let end = points.length;
  while (end > 0) {
    const p = points[end - 1]!;
    const bucketEnd = p.t + bucketMs;
    if (bucketEnd > now || (bucketEnd > now - OPEN_WINDOW_GRACE_MS && p.events === 0)) end -= 1;
    else break;
  }
  return points.slice(0, end);
}

export function totalsOf(windows: readonly TimelineWindow[]): Totals {
  const totals: Totals = { events: 0, clicks: 0, pageViews: 0, engagedMs: 0, peakActiveUsers: 0 };
  for (const w of windows) {
    totals.events += w.events;
    totals.clicks += w.clicks;
    totals.pageViews += w.pageViews;
    totals.engagedMs += w.engagedMs;
    totals.peakActiveUsers = Math.max(totals.peakActiveUsers, w.activeUsers);
  }
  return totals;
}

/**
 * The newest window that has data, if it is recent: "how many people are here right now". The
 * API returns zero-filled windows, and the newest few are always empty because they have not
 * closed yet, so "the last window" would always say nobody.
 */
export const RECENT_WINDOW_MS = 30_000;

export function latestWindow(windows: readonly TimelineWindow[], now: number): TimelineWindow | undefined {
  let latest: TimelineWindow | undefined;
  for (const w of windows) {
    if (w.events === 0 && w.activeUsers === 0) continue;
    if (!latest || Date.parse(w.windowStart) > Date.parse(latest.windowStart)) latest = w;
  }
  return latest && Date.parse(latest.windowStart) >= now - RECENT_WINDOW_MS ? latest : undefined;
}

/** True when the range holds no activity at all (the API zero-fills quiet windows). */
export function hasActivity(windows: readonly TimelineWindow[]): boolean {
  return windows.some((w) => w.events > 0 || w.activeUsers > 0);
}
