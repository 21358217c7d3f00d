import type { EnrichedEvent } from '@clickstream/shared';
import type { Checkpoint, OutboxEntry, OutboxRecord, PartitionRef, StateLogEntry } from './checkpoint-store.js';
import type { KafkaOutboxSink } from './sinks/kafka-sink.js';
import { WindowOperator, type ProcessOutcome, type WindowOperatorConfig } from './window-operator.js';
import type { ClaimedPartition } from './checkpoint-store.js';

/** Compact the state log once it exceeds this many bytes and this many times the last snapshot. */
const SNAPSHOT_MIN_LOG_BYTES = 4 * 1024 * 1024;
const SNAPSHOT_LOG_RATIO = 4;

/**
 * Records per outbox entry. Delivery takes whole entries, and one Kafka transaction must finish
 * well within TRANSACTION_TIMEOUT_MS, so a catch-up checkpoint's output is split across entries.
 */
export const MAX_RECORDS_PER_OUTBOX_ENTRY = 20_000;

export type InputOutcome = ProcessOutcome | 'undecodable' | 'replayed';

/**
 * Everything one owned input partition needs: the window operator, the input position, the
 * epoch that lets its checkpoints commit, and the outbox entries waiting for Kafka.
 */
export class PartitionTask {
  readonly operator: WindowOperator;
  readonly epoch: number;
  /** Offset of the next input record to process. */
  nextOffset: number;
  /** Offset up to which a checkpoint committed. */
  committedOffset: number;
  outboxSeq: number;
  stateSeq: number;
  /** State log written since the last snapshot, and the size of that snapshot: compaction input. */
  private stateLogBytes: number;
  private lastSnapshotBytes = 0;
  deliveredSeq = 0;
  /** Committed outbox entries not yet on Kafka, oldest first. */
  readonly undelivered: OutboxEntry[] = [];
  revoked = false;
  /** After a rewind, records past `nextOffset` are ignored until the seek takes effect. */
  awaitingSeek = true;
  private undecodable: OutboxRecord[] = [];

  constructor(
    readonly ref: PartitionRef,
    claimed: ClaimedPartition,
    startOffset: number,
    config: WindowOperatorConfig,
    now: number,
    readonly sink: KafkaOutboxSink,
  ) {
    this.epoch = claimed.epoch;
    this.nextOffset = startOffset;
    this.committedOffset = startOffset;
    this.outboxSeq = claimed.outboxSeq;
    this.stateSeq = claimed.stateSeq;
    this.stateLogBytes = claimed.stateLogBytes;
    this.operator = new WindowOperator(config, now, claimed.snapshot);
  }

  /** Applies one input record; records before `nextOffset` are already in the checkpoint. */
  apply(offset: number, value: Buffer | null, now: number): InputOutcome | 'gap' {
    if (offset < this.nextOffset) return 'replayed';
    if (offset > this.nextOffset && this.awaitingSeek) return 'gap';
    this.awaitingSeek = false;
    this.nextOffset = offset + 1;
    const event = decodeEvent(value);
    if (!event) {
      this.undecodable.push({
        t: 'invalid',
        k: null,
        v: JSON.stringify({ receivedAt: now, reason: `processor: undecodable record at offset ${offset}`, raw: value?.toString('utf8') ?? null }),
      });
      return 'undecodable';
    }
    return this.operator.process(event, now);
  }

  /**
   * Fires due windows and cuts a consistent checkpoint: operator changes, the input position and
   * the outbox entry are taken together, synchronously, so records applied afterwards belong to
   * the next one.
   */
  cutCheckpoint(now: number): Checkpoint {
    const fired = this.operator.onTimer(now);
    const delta = this.operator.takeDelta();
    const records: OutboxRecord[] = [];
    for (const result of fired.results) records.push({ t: 'metrics', k: result.userId, v: JSON.stringify(result) });
    for (const late of fired.late) records.push({ t: 'late', k: late.event.userId, v: JSON.stringify({ ...late.event, reason: late.reason }) });
    records.push(...this.undecodable);
    this.undecodable = [];
    const outbox: OutboxEntry[] = [];
    for (let from = 0; from < records.length; from += MAX_RECORDS_PER_OUTBOX_ENTRY) {
      this.outboxSeq += 1;
      outbox.push({ seq: this.outboxSeq, records: records.slice(from, from + MAX_RECORDS_PER_OUTBOX_ENTRY) });
    }
    return {
      ref: this.ref,
      epoch: this.epoch,
      nextOffset: this.nextOffset,
      delta,
      results: fired.results,
      outbox,
      outboxSeq: this.outboxSeq,
      state: this.stateEntry(delta),
      stateSeq: this.stateSeq,
      deliveredSeq: this.deliveredSeq,
    };
  }

  /**
   * The state-log entry of this checkpoint: the delta, or - once the log since the last snapshot
   * outgrows the state itself several times over - a snapshot that lets older entries go. That
   * keeps both restore time and the cost per checkpoint proportional to the state.
   */
  private stateEntry(delta: Checkpoint['delta']): StateLogEntry | undefined {
    if (delta.upserts.length === 0 && delta.removals.length === 0) return undefined;
    this.stateSeq += 1;
    if (this.stateLogBytes > Math.max(SNAPSHOT_MIN_LOG_BYTES, SNAPSHOT_LOG_RATIO * this.lastSnapshotBytes)) {
      const payload = JSON.stringify(this.operator.snapshot().windows);
      this.lastSnapshotBytes = payload.length;
      this.stateLogBytes = payload.length;
      return { seq: this.stateSeq, kind: 'snapshot', payload };
    }
    const payload = JSON.stringify({ upserts: delta.upserts, removals: delta.removals });
    this.stateLogBytes += payload.length;
    return { seq: this.stateSeq, kind: 'delta', payload };
  }
}

const EVENT_TYPES = new Set(['page_view', 'click', 'engagement', 'custom']);

/**
 * The collector validated every event; this only guards against records that did not come from
 * it, so a stray record cannot crash the job.
 */
export function decodeEvent(value: Buffer | null): EnrichedEvent | undefined {
  if (!value) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const e = parsed as Partial<EnrichedEvent>;
  if (
    typeof e.id !== 'string' ||
    typeof e.siteId !== 'string' ||
    typeof e.userId !== 'string' ||
    typeof e.sessionId !== 'string' ||
    typeof e.url !== 'string' ||
    typeof e.eventTime !== 'number' ||
    !Number.isFinite(e.eventTime) ||
    !EVENT_TYPES.has(e.type as string)
  ) {
    return undefined;
  }
  return e as EnrichedEvent;
}
