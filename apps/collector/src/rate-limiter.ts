/**
 * Per-address token buckets, in memory only: the address is a map key for at most a minute
 * after its last request and is never written anywhere. A bucket holds `perMinute` tokens
 * and refills continuously, so a client may burst up to its minute's budget.
 */
export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until one more request would be allowed (0 when allowed). */
  retryAfterSec: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  private buckets = new Map<string, Bucket>();
  private readonly refillPerMs: number;
  private lastSweep: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
    /** Bound on remembered addresses, so a flood of spoofed sources cannot grow memory without end. */
    private readonly maxAddresses = 100_000,
  ) {
    this.refillPerMs = perMinute / 60_000;
    this.lastSweep = now();
  }

  take(address: string): RateDecision {
    const now = this.now();
    if (now - this.lastSweep >= 60_000) this.sweep(now);
    let bucket = this.buckets.get(address);
    if (!bucket) {
      if (this.buckets.size >= this.maxAddresses) this.sweep(now, true);
      bucket = { tokens: this.perMinute, updatedAt: now };
      this.buckets.set(address, bucket);
    } else {
      bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.updatedAt) * this.refillPerMs);
      bucket.updatedAt = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSec: 0 };
    }
    return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((1 - bucket.tokens) / this.refillPerMs / 1000)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Forgets buckets that have refilled (they behave like new ones); when forced, forgets all. */
  private sweep(now: number, all = false): void {
    this.lastSweep = now;
    if (all) {
      this.buckets = new Map();
      return;
    }
    for (const [address, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * this.refillPerMs >= this.perMinute) this.buckets.delete(address);
    }
  }
}
