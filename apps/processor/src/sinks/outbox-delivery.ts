import type { CrashPoints } from '../crash-points.js';
import type { PartitionTask } from '../runtime/partition-task.js';
import type { OutboxEntry } from '../state/outbox-codec.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Entries per Kafka transaction: many records per transaction amortise its ~fixed cost, but a
 * transaction must also finish well within TRANSACTION_TIMEOUT_MS, or the broker aborts it and
 * fences the producer - so catch-up entries, which hold thousands of records, go fewer at a time.
 */
const ENTRIES_PER_TRANSACTION = 50;
const RECORDS_PER_TRANSACTION = 50_000;

/**
 * Publishes each partition's committed outbox entries to Kafka, in order, one delivery loop per
 * partition at a time. On failure the producer is re-fenced and the loop resumes from the
 * progress Kafka itself recorded, so an entry is published exactly once.
 */
export class OutboxDelivery {
  /**
   * Keyed by task, not partition: after a re-claim the new task must get its own loop even while
   * the released task's loop is still backing off.
   */
  private readonly active = new Set<PartitionTask>();

  constructor(
    private readonly deps: { crash: CrashPoints; log: (message: string) => void; isRunning: () => boolean },
  ) {}

  schedule(task: PartitionTask): void {
    if (this.active.has(task)) return;
    this.active.add(task);
    void this.deliver(task).finally(() => {
      this.active.delete(task);
      if (!task.revoked && task.undelivered.length > 0 && this.deps.isRunning()) this.schedule(task);
    });
  }

  private async deliver(task: PartitionTask): Promise<void> {
    let attempt = 0;
    while (!task.revoked && task.undelivered.length > 0 && this.deps.isRunning()) {
      const batch = nextTransaction(task.undelivered);
      try {
        const delivered = await task.sink.deliver(batch);
        this.deps.crash.reach('after-delivery-commit');
        task.delivered(delivered);
        attempt = 0;
      } catch (error) {
        attempt += 1;
        this.deps.log(`partition ${task.ref.partition}: delivery failed (${(error as Error).message}); retrying`);
        await sleep(Math.min(5000, 200 * 2 ** attempt));
        if (task.revoked) return;
        try {
          task.delivered(await task.sink.init());
        } catch (initError) {
          this.deps.log(`partition ${task.ref.partition}: producer re-init failed (${(initError as Error).message})`);
        }
      }
    }
  }
}

/** The oldest entries, up to the per-transaction limits; always at least one. */
function nextTransaction(undelivered: readonly OutboxEntry[]): OutboxEntry[] {
  let records = 0;
  let count = 0;
  while (count < undelivered.length && count < ENTRIES_PER_TRANSACTION) {
    records += undelivered[count]!.records.length;
    if (count > 0 && records > RECORDS_PER_TRANSACTION) break;
    count += 1;
  }
  return undelivered.slice(0, count);
}
