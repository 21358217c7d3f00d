/**
 * Bounded-out-of-orderness watermark of one input partition: the highest event time seen minus
 * the bound, and, once the partition has been idle for `idleTimeoutMs`, the wall clock minus the
 * bound, so the last window of a quiet site still closes.
 */
export class Watermark {
  private maxEventTime: number;
  private current: number;
  private lastEventAt: number;

  constructor(
    private readonly outOfOrdernessMs: number,
    private readonly idleTimeoutMs: number,
    restored?: WatermarkSnapshot,
    now = 0,
  ) {
    this.maxEventTime = restored?.maxEventTime ?? Number.NEGATIVE_INFINITY;
    this.current = restored?.watermark ?? Number.NEGATIVE_INFINITY;
    this.lastEventAt = now;
  }

  /** The watermark never goes back. */
  get value(): number {
    return this.current;
  }

  observe(eventTime: number, now: number): void {
    this.lastEventAt = now;
    if (eventTime > this.maxEventTime) {
      this.maxEventTime = eventTime;
      this.raise(eventTime - this.outOfOrdernessMs);
    }
  }

  /** Advances by the wall clock when the partition is idle; returns the watermark. */
  onTimer(now: number): number {
    if (now - this.lastEventAt >= this.idleTimeoutMs) this.raise(now - this.outOfOrdernessMs);
    return this.current;
  }

  snapshot(): WatermarkSnapshot {
    return { maxEventTime: this.maxEventTime, watermark: this.current };
  }

  private raise(candidate: number): void {
    if (candidate > this.current) this.current = candidate;
  }
}

export interface WatermarkSnapshot {
  maxEventTime: number;
  watermark: number;
}
