/** One entry of the erasure log: that user's events with event time <= erasedAt are gone for good. */
export interface Erasure {
  seq: number;
  siteId: string;
  userId: string;
  erasedAt: number;
}

/** The latest erasure time per (site, user): events at or before it are dropped. */
export class ErasureFilter {
  private readonly erasedAt = new Map<string, number>();

  get size(): number {
    return this.erasedAt.size;
  }

  add(erasure: Pick<Erasure, 'siteId' | 'userId' | 'erasedAt'>): void {
    const key = `${erasure.siteId}\u0000${erasure.userId}`;
    this.erasedAt.set(key, Math.max(this.erasedAt.get(key) ?? Number.NEGATIVE_INFINITY, erasure.erasedAt));
  }

  /** Whether the event falls under an erasure; cheap while the log is empty, as it nearly always is. */
  erases(siteId: string, userId: string, eventTime: number): boolean {
    if (this.erasedAt.size === 0) return false;
    const erasedAt = this.erasedAt.get(`${siteId}\u0000${userId}`);
    return erasedAt !== undefined && eventTime <= erasedAt;
  }
}
