import pg from 'pg';
import type { WindowResult } from '@clickstream/shared';
import type { OperatorDelta, OperatorSnapshot } from './window-operator.js';
import type { WindowSnapshot } from './window-state.js';
import type { WatermarkSnapshot } from './watermark.js';
import { upsertWindowResults } from './sinks/postgres-sink.js';
import { FencedError } from './errors.js';

export interface PartitionRef {
  consumerGroup: string;
  topic: string;
  partition: number;
}

export interface ClaimedPartition {
  epoch: number;
  /** -1 when the partition was never checkpointed. */
  nextOffset: number;
  outboxSeq: number;
  snapshot: OperatorSnapshot;
}

/** One record waiting in the outbox for its Kafka transaction. */
export interface OutboxRecord {
  /** Which output: the window results, the late events or the undecodable inputs. */
  t: 'metrics' | 'late' | 'invalid';
  k: string | null;
  v: string;
}

export interface OutboxEntry {
  seq: number;
  records: OutboxRecord[];
}

export interface Checkpoint {
  ref: PartitionRef;
  epoch: number;
  nextOffset: number;
  delta: OperatorDelta;
  results: WindowResult[];
  /** Present when this checkpoint produced output for Kafka. */
  outbox?: OutboxEntry;
  outboxSeq: number;
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
    // An idle client that loses its server must not crash the process; the next query fails instead.
    this.pool.on('error', () => {});
  }

  /** Takes ownership of a partition: bumps its epoch (fencing older owners) and loads its state. */
  async claim(ref: PartitionRef): Promise<ClaimedPartition> {
    return this.transaction(async (client) => {
      const claimed = await client.query<{ epoch: string; next_offset: string; outbox_seq: string; watermark: WatermarkSnapshot }>(
        `INSERT INTO processor_partitions (consumer_group, topic, partition, epoch)
         VALUES ($1, $2, $3, 1)
         ON CONFLICT (consumer_group, topic, partition)
         DO UPDATE SET epoch = processor_partitions.epoch + 1, updated_at = now()
         RETURNING epoch, next_offset, outbox_seq, watermark`,
        refParams(ref),
      );
      const windows = await client.query<{ state: WindowSnapshot }>(
        `SELECT state FROM processor_windows WHERE consumer_group = $1 AND topic = $2 AND partition = $3`,
        refParams(ref),
      );
      const row = claimed.rows[0]!;
      const watermark = row.watermark as Partial<WatermarkSnapshot>;
      return {
        epoch: Number(row.epoch),
        nextOffset: Number(row.next_offset),
        outboxSeq: Number(row.outbox_seq),
        snapshot: {
          watermark: {
            maxEventTime: watermark.maxEventTime ?? Number.NEGATIVE_INFINITY,
            watermark: watermark.watermark ?? Number.NEGATIVE_INFINITY,
          },
          windows: windows.rows.map((r) => r.state),
        },
      };
    });
  }

  async commit(checkpoint: Checkpoint): Promise<void> {
    const { ref, epoch, delta } = checkpoint;
    await this.transaction(async (client) => {
      const fenced = await client.query(
        `UPDATE processor_partitions
            SET next_offset = $5, watermark = $6, outbox_seq = $7, updated_at = now()
          WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND epoch = $4`,
        [...refParams(ref), epoch, checkpoint.nextOffset, JSON.stringify(delta.watermark), checkpoint.outboxSeq],
      );
      if (fenced.rowCount !== 1) throw new FencedError(ref.partition, epoch);
      await upsertWindowResults(client, checkpoint.results);
      if (delta.upserts.length > 0) {
        await client.query(
          `INSERT INTO processor_windows (consumer_group, topic, partition, site_id, user_id, window_start, state)
           SELECT $1, $2, $3, w.state->>'siteId', w.state->>'userId', (w.state->>'start')::bigint, w.state
             FROM jsonb_array_elements($4::jsonb) AS w(state)
           ON CONFLICT (consumer_group, topic, partition, site_id, user_id, window_start)
           DO UPDATE SET state = EXCLUDED.state`,
          [...refParams(ref), JSON.stringify(delta.upserts)],
        );
      }
      if (delta.removals.length > 0) {
        await client.query(
          `DELETE FROM processor_windows p
            USING jsonb_to_recordset($4::jsonb) AS r("siteId" text, "userId" text, start bigint)
            WHERE p.consumer_group = $1 AND p.topic = $2 AND p.partition = $3
              AND p.site_id = r."siteId" AND p.user_id = r."userId" AND p.window_start = r.start`,
          [...refParams(ref), JSON.stringify(delta.removals)],
        );
      }
      if (checkpoint.outbox) {
        await client.query(
          `INSERT INTO processor_outbox (consumer_group, topic, partition, seq, records) VALUES ($1, $2, $3, $4, $5)`,
          [...refParams(ref), checkpoint.outbox.seq, JSON.stringify(checkpoint.outbox.records)],
        );
      }
    });
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
    const rows = await this.pool.query<{ seq: string; records: OutboxRecord[] }>(
      `SELECT seq, records FROM processor_outbox
        WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND seq > $4
        ORDER BY seq LIMIT $5`,
      [...refParams(ref), afterSeq, limit],
    );
    return rows.rows.map((r) => ({ seq: Number(r.seq), records: r.records }));
  }

  /** Outbox entries up to `seq` are on Kafka for good; the owner of `epoch` may drop them. */
  async trimOutbox(ref: PartitionRef, epoch: number, seq: number): Promise<void> {
    await this.pool.query(
      `DELETE FROM processor_outbox o
        USING processor_partitions p
        WHERE o.consumer_group = $1 AND o.topic = $2 AND o.partition = $3 AND o.seq <= $5
          AND p.consumer_group = o.consumer_group AND p.topic = o.topic AND p.partition = o.partition
          AND p.epoch = $4`,
      [...refParams(ref), epoch, seq],
    );
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
