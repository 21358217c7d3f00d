import type { VisitDeletionMarker } from '@clickstream/shared';
import type { Checkpoint, ClaimedPartition, PartitionRef } from '../state/checkpoint-store.js';
import type { OutboxEntry, OutboxRecord } from '../state/outbox-codec.js';
import type { StateLogEntry } from '../state/state-log.js';
import type { KafkaOutboxSink } from '../sinks/kafka-sink.js';
import type { ProcessOutcome } from '../operators/window-operator.js';
import { PartitionOperator, type PartitionOperatorConfig } from '../operators/partition-operator.js';
import { decodeEvent } from './event-decoder.js';

/** Compact the state log once it exceeds this many bytes and this many times the last snapshot. */
const SNAPSHOT_MIN_LOG_BYTES = 4 * 1024 * 1024;
const SNAPSHOT_LOG_RATIO = 4;

/**
 * Records per outbox entry. Delivery takes whole entries, and one Kafka transaction must finish
 * well within TRANSACTION_TIMEOUT_MS, so a catch-up checkpoint's output is split across entries.
 */
export const MAX_RECORDS_PER_OUTBOX_ENTRY = 20_000;

/** Past this many records behind the log end, a partition is catching up, not live. */
export const CATCH_UP_BACKLOG = 20_000;

export type InputOutcome = ProcessOutcome | 'undecodable' | 'replayed';

/**
 * Everything one owned input partition needs: the window operator, the input position, the
 * epoch that lets its checkpoints commit, and the outbox entries waiting for Kafka. Its position
 * moves only through its own methods: `apply` (input), `checkpointCommitted` (the store) and
 * `delivered` (the Kafka sink).
 */
export class PartitionTask {
  readonly operator: PartitionOperator;
  readonly epoch: number;
  /** The last erasure the restored state applied. */
  readonly erasureSeq: number;
  private next: number;
  private committed: number;
  private outboxSeq: number;
  private stateSeq: number;
  /** State log written since the last snapshot, and the size of that snapshot: compaction input. */
  private stateLogBytes: number;
  private lastSnapshotBytes = 0;
  private delivered_ = 0;
  /** Committed outbox entries not yet on Kafka, oldest first. */
  private readonly pending: OutboxEntry[] = [];
  private revoked_ = false;
  /** After a rewind, records past `nextOffset` are ignored until the seek takes effect. */
  private awaitingSeek = true;
  private undecodable: OutboxRecord[] = [];
  /** Records on the partition past the last batch read: a large backlog means catching up. */
  backlog = 0;

  constructor(
    readonly ref: PartitionRef,
    claimed: ClaimedPartition,
    startOffset: number,
    config: PartitionOperatorConfig,
    now: number,
    readonly sink: KafkaOutboxSink,
  ) {
    this.epoch = claimed.epoch;
    this.next = startOffset;
    this.committed = startOffset;
    this.outboxSeq = claimed.outboxSeq;
    this.stateSeq = claimed.stateSeq;
    this.stateLogBytes = claimed.stateLogBytes;
    this.operator = new PartitionOperator(config, now, claimed.snapshot);
    for (const erasure of claimed.erasures) this.operator.erase(erasure.siteId, erasure.userId, erasure.erasedAt);
    this.erasureSeq = claimed.erasures.reduce((max, e) => Math.max(max, e.seq), 0);
  }

  /** Offset of the next input record to process. */
  get nextOffset(): number {
    return this.next;
  }

  /** Offset up to which a checkpoint committed. */
  get committedOffset(): number {
    return this.committed;
  }

  /** Outbox entries up to this sequence number are on Kafka. */
  get deliveredSeq(): number {
    return this.delivered_;
  }

  get undelivered(): readonly OutboxEntry[] {
    return this.pending;
  }

  get lastOutboxSeq(): number {
    return this.outboxSeq;
  }

  /** Released: another owner (or a re-claim) takes over; nothing more may be committed or sent. */
  get revoked(): boolean {
    return this.revoked_;
  }

  revoke(): void {
    this.revoked_ = true;
  }

  /** Applies one input record; records before `nextOffset` are already in the checkpoint. */
  apply(offset: number, value: Buffer | null, now: number): InputOutcome | 'gap' {
    if (offset < this.next) return 'replayed';
    if (offset > this.next && this.awaitingSeek) return 'gap';
    this.awaitingSeek = false;
    this.next = offset + 1;
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
    const fired = this.operator.onTimer(now, this.backlog < CATCH_UP_BACKLOG);
    const delta = this.operator.takeDelta();
    const records: OutboxRecord[] = [];
    for (const result of fired.results) records.push({ t: 'metrics', k: result.userId, v: JSON.stringify(result) });
    // Deletion markers first: a reader applying records in order never sees a merged-away visit
    // outlive the revision that absorbed it.
    for (const deletion of fired.visitDeletions) {
      const marker: VisitDeletionMarker = { deleted: true, siteId: deletion.siteId, userId: deletion.userId, sessionStart: new Date(deletion.start).toISOString() };
      records.push({ t: 'sessions', k: deletion.userId, v: JSON.stringify(marker) });
    }
    for (const visit of fired.visits) records.push({ t: 'sessions', k: visit.userId, v: JSON.stringify(visit) });
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
      nextOffset: this.next,
      delta,
      results: fired.results,
      resultsReceivedAt: fired.receivedAt,
      visits: fired.visits,
      visitDeletions: fired.visitDeletions,
      site: fired.site,
      outbox,
      outboxSeq: this.outboxSeq,
      state: this.stateEntry(delta),
      stateSeq: this.stateSeq,
      deliveredSeq: this.delivered_,
    };
  }

  /** The store committed `checkpoint`: its input is covered and its outbox may go to Kafka. */
  checkpointCommitted(checkpoint: Checkpoint): void {
    this.committed = checkpoint.nextOffset;
    this.pending.push(...checkpoint.outbox);
  }

  /** Committed entries a restart found in the store, still to be delivered. */
  resumeDelivery(deliveredSeq: number, undelivered: readonly OutboxEntry[]): void {
    this.delivered_ = deliveredSeq;
    this.pending.push(...undelivered.filter((e) => e.seq > deliveredSeq));
  }

  /** Kafka holds everything up to `seq`; the next checkpoint trims it from PostgreSQL. */
  delivered(seq: number): void {
    this.delivered_ = seq;
    while (this.pending.length > 0 && this.pending[0]!.seq <= seq) this.pending.shift();
  }

  /** Every input up to `nextOffset` committed and delivered. */
  get idle(): boolean {
    return this.committed === this.next && this.pending.length === 0;
  }

  /**
   * The state-log entry of this checkpoint: the delta, or - once the log since the last snapshot
   * outgrows the state itself several times over - a snapshot that lets older entries go. That
   * keeps both restore time and the cost per checkpoint proportional to the state.
   */
  private stateEntry(delta: Checkpoint['delta']): StateLogEntry | undefined {
    const visits = delta.visits;
    if (delta.upserts.length === 0 && delta.removals.length === 0 && visits.upserts.length === 0 && visits.removals.length === 0) return undefined;
    this.stateSeq += 1;
    if (this.stateLogBytes > Math.max(SNAPSHOT_MIN_LOG_BYTES, SNAPSHOT_LOG_RATIO * this.lastSnapshotBytes)) {
      const { windows, visits: held, nextVisitId } = this.operator.snapshot();
      const payload = JSON.stringify({ windows, visits: held, nextVisitId });
      this.lastSnapshotBytes = payload.length;
      this.stateLogBytes = payload.length;
      return { seq: this.stateSeq, kind: 'snapshot', payload };
    }
    const payload = JSON.stringify({ upserts: delta.upserts, removals: delta.removals, visits, nextVisitId: delta.nextVisitId });
    this.stateLogBytes += payload.length;
    return { seq: this.stateSeq, kind: 'delta', payload };
  }
}
