/**
 * Seeded traffic through the real collector over HTTP, the way browsers running the snippet send
 * it: many users, single events and batches, out-of-order, late and too-late events, and the same
 * body sent again (a retry whose first answer was lost). A 503, 429 or broken connection is
 * retried with the same body, so the same ids; an event counts as acknowledged once a 202 came.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientEvent } from '@clickstream/shared';
import { DESKTOP_USER_AGENT, seededRandom } from '@clickstream/local-infra/testing';

export interface TrafficOptions {
  seed: number;
  collectorUrl: string;
  /** Event-time origin; the run stays in the past, so the collector never caps an event time. */
  baseTime: number;
  users?: number;
  eventsPerSec?: number;
  concurrency?: number;
  /** Event time advanced per generated event. */
  stepMs?: number;
  duplicateRate?: number;
  lateRate?: number;
  tooLateRate?: number;
  /** Keep every acknowledged id (for verification); a long soak only counts them. Default true. */
  recordIds?: boolean;
}

export interface TrafficStats {
  requests: number;
  accepted: number;
  resent: number;
  status503: number;
  status429: number;
  networkErrors: number;
}

export class Traffic {
  /** Every event id a 202 acknowledged (empty when `recordIds` is false). */
  readonly acknowledged = new Set<string>();
  /** Events a 202 acknowledged, counted once per event even when a retry was acknowledged too. */
  acknowledgedCount = 0;
  readonly stats: TrafficStats = { requests: 0, accepted: 0, resent: 0, status503: 0, status429: 0, networkErrors: 0 };
  /** When the last 202 came, for recovery measurements. */
  lastAckAt = 0;
  private readonly random: () => number;
  private clock: number;
  private seq = 0;
  private running = false;
  private paused = false;
  private inFlight = 0;
  private workers: Promise<void>[] = [];
  private nextSlot = 0;
  private failure: Error | undefined;

  constructor(private readonly options: TrafficOptions) {
    this.random = seededRandom(options.seed);
    this.clock = options.baseTime + 150_000;
  }

  /** The event-time clock: the highest event time generated so far (before jitter). */
  get eventClock(): number {
    return this.clock;
  }

  start(): void {
    this.running = true;
    this.nextSlot = Date.now();
    this.workers = Array.from({ length: this.options.concurrency ?? 4 }, () => this.worker());
  }

  /** Stops issuing requests and waits until every request in flight has its 202. */
  async pause(): Promise<void> {
    this.paused = true;
    while (this.inFlight > 0) await sleep(50);
    this.throwIfFailed();
  }

  resume(): void {
    this.paused = false;
    this.nextSlot = Date.now();
  }

  /**
   * Changes the offered rate; event time keeps following the wall clock when `stepMs` was
   * derived from the rate (1000 / rate), as the soak does.
   */
  setRate(eventsPerSec: number): void {
    const followsClock = this.options.stepMs !== undefined && this.options.eventsPerSec !== undefined && Math.abs(this.options.stepMs * this.options.eventsPerSec - 1000) < 1e-6;
    this.options.eventsPerSec = eventsPerSec;
    if (followsClock) {
      this.options.stepMs = 1000 / eventsPerSec;
      // Past the peak fewer events were sent than offered, so event time fell behind: re-anchor.
      this.clock = Math.max(this.clock, Date.now() - 5000);
    }
    this.nextSlot = Date.now();
  }

  /** A quiet gap in event time (longer than lateness and out-of-orderness), taken while paused. */
  skipEventTime(ms: number): void {
    this.clock += ms;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.throwIfFailed();
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private async worker(): Promise<void> {
    const random = this.random;
    while (this.running && !this.failure) {
      if (this.paused) {
        await sleep(50);
        continue;
      }
      // In flight from the moment its event times exist: pause() must wait for a body generated
      // before a gap in event time, or it would be sent after the gap (and after the partition
      // count changed), putting one user's window in two partitions.
      this.inFlight += 1;
      try {
        const body = this.nextBody();
        const count = Array.isArray((body as { events?: unknown }).events) ? (body as { events: unknown[] }).events.length : 1;
        await this.pace(count);
        await this.deliver(body);
        // The browser never saw the answer and sends the same body again.
        if (random() < (this.options.duplicateRate ?? 0.03)) {
          this.stats.resent += 1;
          await this.deliver(body, true);
        }
      } catch (error) {
        this.failure = error as Error;
      } finally {
        this.inFlight -= 1;
      }
    }
  }

  private async pace(count: number): Promise<void> {
    const rate = this.options.eventsPerSec ?? 150;
    const slot = Math.max(Date.now(), this.nextSlot);
    this.nextSlot = slot + (count * 1000) / rate;
    const wait = slot - Date.now();
    if (wait > 0) await sleep(wait);
  }

  /**
   * Sends until a 202, as the snippet retries: same events, same ids, and - for a batch - a fresh
   * `sentAt` on every attempt. How long a request spends in flight differs between attempts, so
   * the collector derives a slightly different event time each time (up to 0.4 s here), which puts
   * some retries across a window boundary from their first attempt.
   */
  private async deliver(body: object, resend = false): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const payload = JSON.stringify('events' in body ? { ...body, sentAt: Date.now() - Math.round(this.random() * 400) } : body);
      this.stats.requests += 1;
      let status = 0;
      let retryAfter = 0;
      let text = '';
      try {
        const response = await fetch(`${this.options.collectorUrl}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': attempt % 2 === 0 ? 'application/json' : 'text/plain', 'user-agent': DESKTOP_USER_AGENT },
          body: payload,
          signal: AbortSignal.timeout(15_000),
        });
        status = response.status;
        retryAfter = Number(response.headers.get('retry-after') ?? 0);
        text = await response.text();
      } catch {
        this.stats.networkErrors += 1;
      }
      if (status === 202) {
        const answer = JSON.parse(text) as { accepted: number; rejected: unknown[] };
        if (answer.rejected.length > 0) throw new Error(`the collector rejected generated events: ${text}`);
        const events = 'events' in body ? (body as { events: ClientEvent[] }).events : [body as ClientEvent];
        if (this.options.recordIds !== false) for (const event of events) this.acknowledged.add(event.id);
        if (!resend) this.acknowledgedCount += events.length;
        this.stats.accepted += events.length;
        this.lastAckAt = Date.now();
        return;
      }
      if (status === 503) this.stats.status503 += 1;
      else if (status === 429) this.stats.status429 += 1;
      else if (status !== 0) throw new Error(`the collector answered ${status} to a valid request: ${text.slice(0, 300)}`);
      // Honour Retry-After, capped so a long outage is probed often enough to measure recovery.
      await sleep(Math.min(Math.max(retryAfter * 1000, 100), 1000) + this.random() * 200);
    }
  }

  private nextBody(): object {
    const random = this.random;
    const users = this.options.users ?? 300;
    const user = Math.floor(random() * users);
    const batch = random() < 0.6 ? 2 + Math.floor(random() * 19) : 1;
    const events: ClientEvent[] = [];
    for (let i = 0; i < batch; i++) events.push(this.nextEvent(user));
    // Like the snippet, most requests are batches stamped with sentAt; some are a bare event.
    return batch === 1 && random() < 0.5 ? events[0]! : { events };
  }

  private nextEvent(user: number): ClientEvent {
    const random = this.random;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    this.clock += this.options.stepMs ?? 20;
    let ts = Math.round(this.clock - random() * 1500);
    const roll = random();
    const tooLate = this.options.tooLateRate ?? 0.01;
    if (roll < tooLate) ts = Math.round(this.clock - 75_000 - random() * 60_000);
    else if (roll < tooLate + (this.options.lateRate ?? 0.03)) ts = Math.round(this.clock - 6000 - random() * 45_000);
    const site = pick(['shop', 'blog', 'docs']);
    const base = {
      id: `c${this.options.seed}-${(this.seq++).toString(36)}-${Math.floor(random() * 1e9).toString(36)}`,
      siteId: site,
      userId: `user-${user}`,
      sessionId: `s-${user}-${Math.floor(random() * 3)}`,
      ts,
      url: `https://${site}.example/${pick(['', 'a', 'b', 'c', 'cart'])}?ref=${Math.floor(random() * 5)}`,
    };
    const type = pick(['page_view', 'page_view', 'click', 'click', 'click', 'engagement', 'custom'] as const);
    if (type === 'engagement') return { ...base, type, engagedMs: Math.round(random() * 3000) };
    if (type === 'custom') return { ...base, type, name: 'signup', props: { plan: 'pro' } };
    if (type === 'click') return { ...base, type, target: { tag: 'button', text: 'Buy' } };
    return { ...base, type };
  }
}
