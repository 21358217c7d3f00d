import pg from 'pg';
import type { VisitResult, WindowResult } from '@clickstream/shared';
import type { PartitionDelta, PartitionSnapshot } from '../operators/partition-operator.js';
import type { VisitDeletion } from '../operators/session-windows.js';
import type { SiteAggregatesOutput } from '../operators/site-aggregates.js';
import type { WatermarkSnapshot } from '../operators/watermark.js';
import { FencedError } from '../errors.js';
import { writeResults, writeSiteAggregates, writeVisits } from '../sinks/postgres-sink.js';
import { encodeOutboxRecords, decodeOutboxRecords, type OutboxEntry } from './outbox-codec.js';
import { replayStateLog, type StateLogEntry } from './state-log.js';
import { erasuresSince, recentErasures, withoutErased } from './erasure-log.js';
import type { Erasure } from '../operators/erasure.js';

export interface PartitionRef {
  consumerGroup: string;
  topic: string;
  partition: number;
}

export interface ClaimedPartition {
  /** The checkpoint's offsets were for another Kafka cluster and were discarded. */
  clusterChanged: boolean;
  epoch: number;
  /** -1 when the partition was never checkpointed. */
  nextOffset: number;
  outboxSeq: number;
  stateSeq: number;
  /** Bytes of state log since (and including) the latest snapshot: what a restore reads. */
  stateLogBytes: number;
  snapshot: PartitionSnapshot;
  /** Recent erasures, to apply to the restored state and to events still to come. */
  erasures: Erasure[];
}

export interface Checkpoint {
  ref: PartitionRef;
  epoch: number;
  nextOffset: number;
  delta: PartitionDelta;
  results: WindowResult[];
  /** When the newest event of each result reached the collector (latency figures only). */
  resultsReceivedAt: number[];
  /** Visits emitted by this checkpoint, and those deleted (merged away or moved). */
  visits: VisitResult[];
  visitDeletions: VisitDeletion[];
  /** Deltas for the site rollups and presence rows. */
  site: SiteAggregatesOutput;
  /** This checkpoint's output for Kafka, in consecutive entries (none when it produced nothing). */
  outbox: OutboxEntry[];
  outboxSeq: number;
  /** Present when windows changed since the previous checkpoint. */
  state?: StateLogEntry;
  stateSeq: number;
  /** Outbox entries up to here are on Kafka for good and can go. */
  deliveredSeq: number;
}

/** What a commit wrote (the cut, less what erasures removed) and the erasures it learnt of. */
export interface CommitResult {
  checkpoint: Checkpoint;
  erasures: Erasure[];
}

export interface CommitAllResult {
  /** In the order of the cuts given. */
  checkpoints: Checkpoint[];
  erasures: Erasure[];
}

const refParams = (ref: PartitionRef) => [ref.consumerGroup, ref.topic, ref.partition];

/**
 * The processor's durable state in PostgreSQL. A checkpoint is one transaction holding the
 * partition's next offset, watermark, changed windows, the window rows of `user_metrics` and
 * the outbox entry for Kafka; it commits only while the caller's epoch is current.
 */
export class CheckpointStore {
  readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 8, application_name: 'clickstream-processor' });
    // A client that loses its server (idle, checked out, or being released) emits 'error'; it
    // must not crash the process - the query in flight, or the next one, fails instead.
    this.pool.on('error', () => {});
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  /**
   * Takes ownership of a partition: bumps its epoch (fencing older owners) and loads its state.
   * Offsets recorded against another Kafka cluster (the broker's data was reset) mean nothing
   * here, so the partition then starts from the beginning of its log.
   */
  async claim(ref: PartitionRef, clusterId: string): Promise<ClaimedPartition> {
    return this.transaction(async (client) => {
      const previous = await client.query<{ cluster_id: string | null }>(
        `SELECT cluster_id FROM processor_partitions WHERE consumer_group = $1 AND topic = $2 AND partition = $3 FOR UPDATE`,
        refParams(ref),
      );
      const previousCluster = previous.rows[0]?.cluster_id ?? null;
      const clusterChanged = previousCluster !== null && previousCluster !== clusterId;
      const claimed = await client.query<{ epoch: string; next_offset: string; outbox_seq: string; state_seq: string; watermark: WatermarkSnapshot }>(
        `INSERT INTO processor_partitions (consumer_group, topic, partition, epoch, cluster_id)
         VALUES ($1, $2, $3, 1, $4)
         ON CONFLICT (consumer_group, topic, partition)
         DO UPDATE SET epoch = processor_partitions.epoch + 1, cluster_id = $4, updated_at = now(),
                       next_offset = CASE WHEN $5 THEN -1 ELSE processor_partitions.next_offset END
         RETURNING epoch, next_offset, outbox_seq, state_seq, watermark`,
        [...refParams(ref), clusterId, clusterChanged],
      );
      const log = await client.query<{ kind: 'delta' | 'snapshot'; payload: string }>(
        `SELECT kind, payload FROM processor_state_log
          WHERE consumer_group = $1 AND topic = $2 AND partition = $3
            AND seq >= coalesce((SELECT max(seq) FROM processor_state_log
                                  WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND kind = 'snapshot'), 0)
          ORDER BY seq`,
        refParams(ref),
      );
      const erasures = await recentErasures(client);
      const row = claimed.rows[0]!;
      const watermark = row.watermark as Partial<WatermarkSnapshot>;
      return {
        clusterChanged,
        epoch: Number(row.epoch),
        nextOffset: Number(row.next_offset),
        outboxSeq: Number(row.outbox_seq),
        stateSeq: Number(row.state_seq),
        stateLogBytes: log.rows.reduce((sum, r) => sum + r.payload.length, 0),
        erasures,
        snapshot: {
          watermark: {
            maxEventTime: watermark.maxEventTime ?? Number.NEGATIVE_INFINITY,
            watermark: watermark.watermark ?? Number.NEGATIVE_INFINITY,
          },
          ...replayStateLog(log.rows),
        },
      };
    });
  }

  /** One checkpoint alone (see commitAll). */
  async commit(cut: Checkpoint, knownErasureSeq = Number.MAX_SAFE_INTEGER): Promise<CommitResult> {
    const { checkpoints, erasures } = await this.commitAll([cut], knownErasureSeq);
    return { checkpoint: checkpoints[0]!, erasures };
  }

  /**
   * Commits the checkpoints of several partitions in ONE transaction, unless one of their epochs
   * was fenced (FencedError names it; nothing commits). One transaction per checkpoint round,
   * not one per partition, because every partition adds to the same site rollup rows: separate
   * transactions queued on those rows' locks, one after another. Erasures recorded since
   * `knownErasureSeq` are applied to what is written and returned, so the caller applies them to
   * its operators.
   */
  async commitAll(cuts: readonly Checkpoint[], knownErasureSeq = Number.MAX_SAFE_INTEGER): Promise<CommitAllResult> {
    if (cuts.length === 0) return { checkpoints: [], erasures: [] };
    return this.transaction(async (client) => {
      for (const cut of cuts) {
        const fenced = await client.query(
          `UPDATE processor_partitions
              SET next_offset = $5, watermark = $6, outbox_seq = $7, state_seq = $8, updated_at = now()
            WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND epoch = $4`,
          [...refParams(cut.ref), cut.epoch, cut.nextOffset, JSON.stringify(cut.delta.watermark), cut.outboxSeq, cut.stateSeq],
        );
        if (fenced.rowCount !== 1) throw new FencedError(cut.ref.partition, cut.epoch);
      }
      const erasures = knownErasureSeq === Number.MAX_SAFE_INTEGER ? [] : await erasuresSince(client, knownErasureSeq);
      const checkpoints = erasures.length > 0 ? cuts.map((cut) => withoutErased(cut, erasures)) : [...cuts];
      for (const checkpoint of checkpoints) await this.writePartition(client, checkpoint);
      // Last before COMMIT, so the shared rollup rows are locked for the shortest time (other
      // processes of the group write them too).
      await writeSiteAggregates(client, {
        stats: checkpoints.flatMap((c) => c.site.stats),
        presence: checkpoints.flatMap((c) => c.site.presence),
      });
      return { checkpoints, erasures };
    });
  }

  /** What one partition's checkpoint writes besides the site rollups. */
  private async writePartition(client: pg.PoolClient, checkpoint: Checkpoint): Promise<void> {
    const { ref } = checkpoint;
    await writeResults(client, checkpoint.results);
    await writeVisits(client, checkpoint.visits, checkpoint.visitDeletions);
    const state = checkpoint.state;
    if (state) {
      await client.query(
        `INSERT INTO processor_state_log (consumer_group, topic, partition, seq, kind, payload) VALUES ($1, $2, $3, $4, $5, $6)`,
        [...refParams(ref), state.seq, state.kind, state.payload],
      );
      if (state.kind === 'snapshot') {
        await client.query(
          `DELETE FROM processor_state_log WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND seq < $4`,
          [...refParams(ref), state.seq],
        );
      }
    }
    if (checkpoint.deliveredSeq > 0) {
      // Trimming rides on the checkpoint, so a trim lost with a connection is redone next time.
      await client.query(
        `DELETE FROM processor_outbox WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND seq <= $4`,
        [...refParams(ref), checkpoint.deliveredSeq],
      );
    }
    for (const entry of checkpoint.outbox) {
      await client.query(
        `INSERT INTO processor_outbox (consumer_group, topic, partition, seq, records) VALUES ($1, $2, $3, $4, $5)`,
        [...refParams(ref), entry.seq, encodeOutboxRecords(entry.records)],
      );
    }
  }

  /**
   * Runs `work` in one transaction. A connection that dies while checked out emits 'error' on
   * its client; it is listened for here and the client destroyed instead of returned to the pool.
   */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const onError = (error: Error) => (broken = error);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      broken ??= error as Error;
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async readOutbox(ref: PartitionRef, afterSeq: number, limit = 100): Promise<OutboxEntry[]> {
    const rows = await this.pool.query<{ seq: string; records: string }>(
      `SELECT seq, records FROM processor_outbox
        WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND seq > $4
        ORDER BY seq LIMIT $5`,
      [...refParams(ref), afterSeq, limit],
    );
    return rows.rows.map((r) => ({ seq: Number(r.seq), records: decodeOutboxRecords(r.records) }));
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

