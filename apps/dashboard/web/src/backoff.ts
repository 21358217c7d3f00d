/**
 * Reconnect delays for the live feed: exponential with full jitter, so a restarted server is
 * not hit by every open dashboard at the same instant.
 */
export const BACKOFF = Object.freeze({ baseMs: 500, maxMs: 30_000 });

export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF.maxMs, BACKOFF.baseMs * 2 ** Math.max(0, Math.min(attempt, 16)));
  // Never below half the ceiling: a floor keeps a flapping server from being polled in a loop.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
