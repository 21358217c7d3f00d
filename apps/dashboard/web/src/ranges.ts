/** The time ranges the dashboard offers, and how finely each is charted. */
export const RANGES = Object.freeze({
  live: { label: 'Live (5 min)', spanMs: 5 * 60_000, bucketMs: 5_000, refreshMs: 0 },
  '15m': { label: '15 min', spanMs: 15 * 60_000, bucketMs: 5_000, refreshMs: 10_000 },
  '1h': { label: '1 hour', spanMs: 60 * 60_000, bucketMs: 30_000, refreshMs: 30_000 },
  '24h': { label: '24 hours', spanMs: 24 * 60 * 60_000, bucketMs: 10 * 60_000, refreshMs: 60_000 },
} as const);

export type RangeKey = keyof typeof RANGES;
export const RANGE_KEYS = Object.keys(RANGES) as RangeKey[];

export function isRangeKey(value: unknown): value is RangeKey {
  return typeof value === 'string' && Object.hasOwn(RANGES, value);
}

/** The [from, to) a range covers at `now`, aligned to its buckets so charts don't jitter. */
export function rangeBounds(range: RangeKey, now: number): { from: number; to: number } {
  const { spanMs, bucketMs } = RANGES[range];
  const to = now - (now % bucketMs) + bucketMs;
  return { from: to - spanMs, to };
}
