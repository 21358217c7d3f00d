/**
 * Coalesces concurrent HTTP requests into shared produce calls. kafkajs sends one request per
 * `send()`, and its idempotent producer is only safe with one call in flight (kafkajs#1005), so
 * at most `maxInFlight` calls run (one per producer of a pool) and requests that arrive while
 * they are busy wait and leave together with the next free one. When a slot is free a short
 * linger gathers company first. Each submission settles when the call carrying it settles, or
 * fails on its own deadline if Kafka is slow: the HTTP answer never hangs.
 */
export interface BatchItem<M> {
  clicks: M[];
  invalid: M[];
}

export interface ProduceBatcherOptions {
  /** Wait this long for more requests when nothing is in flight. */
  lingerMs: number;
  /** A produce call carries at most this many messages (a single larger submission goes alone). */
  maxBatchMessages: number;
  /** Produce calls that may run at once. */
  maxInFlight?: number;
  /** A submission not settled after this long is failed with `onTimeout()`. */
  timeoutMs: number;
  onTimeout: () => Error;
}

interface Pending<M> extends BatchItem<M> {
  size: number;
  settled: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export type SendBatch<M> = (batch: BatchItem<M>) => Promise<void>;

export class ProduceBatcher<M> {
  private queue: Pending<M>[] = [];
  private queuedMessages = 0;
  private inFlight = new Set<Promise<void>>();
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: SendBatch<M>,
    private readonly options: ProduceBatcherOptions,
  ) {}

  /** Messages waiting for a produce call (not counting the one in flight). */
  get queued(): number {
    return this.queuedMessages;
  }

  submit(item: BatchItem<M>): Promise<void> {
    const size = item.clicks.length + item.invalid.length;
    if (size === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const pending: Pending<M> = {
        ...item,
        size,
        settled: false,
        resolve,
        reject,
        timer: setTimeout(() => this.expire(pending), this.options.timeoutMs),
      };
      this.queue.push(pending);
      this.queuedMessages += size;
      if (this.inFlight.size >= this.maxInFlight) return;
      if (this.queuedMessages >= this.options.maxBatchMessages || this.options.lingerMs === 0) this.drain();
      else this.lingerTimer ??= setTimeout(() => this.drain(), this.options.lingerMs);
    });
  }

  /** Resolves when nothing is queued or in flight (for graceful shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.queue.length > 0) {
      if (this.inFlight.size === 0) this.drain();
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /** A request past its deadline is answered now; if it has not left yet, it never will. */
  private expire(pending: Pending<M>): void {
    if (pending.settled) return;
    pending.settled = true;
    const index = this.queue.indexOf(pending);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.queuedMessages -= pending.size;
    }
    pending.reject(this.options.onTimeout());
  }

  private drain(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    while (this.inFlight.size < this.maxInFlight && this.queue.length > 0) this.sendNext();
  }

  private get maxInFlight(): number {
    return this.options.maxInFlight ?? 1;
  }

  private sendNext(): void {
    const taken: Pending<M>[] = [];
    let size = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (taken.length > 0 && size + next.size > this.options.maxBatchMessages) break;
      this.queue.shift();
      taken.push(next);
      size += next.size;
    }
    this.queuedMessages -= size;
    const batch: BatchItem<M> = { clicks: [], invalid: [] };
    for (const p of taken) {
      for (const m of p.clicks) batch.clicks.push(m);
      for (const m of p.invalid) batch.invalid.push(m);
    }
    const call: Promise<void> = this.send(batch).then(
      () => this.settle(call, taken),
      (error: Error) => this.settle(call, taken, error),
    );
    this.inFlight.add(call);
  }

  private settle(call: Promise<void>, taken: Pending<M>[], error?: Error): void {
    for (const p of taken) {
      clearTimeout(p.timer);
      if (p.settled) continue;
      p.settled = true;
      if (error) p.reject(error);
      else p.resolve();
    }
    this.inFlight.delete(call);
    // Whatever queued up meanwhile has waited long enough: send it without lingering.
    if (this.queue.length > 0) this.drain();
  }
}
