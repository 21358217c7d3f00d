/**
 * How far the live processor got, from its checkpoints (read only): the audit compares once the
 * processor's group has checkpointed every partition past the end offsets the audit read, and
 * the outbox entries of those checkpoints are on Kafka. The checkpoint's watermark also tells
 * how far the wall clock moved an idle partition's watermark, which the log alone cannot say.
 */
import type pg from 'pg';

export interface PartitionProgress {
  partition: number;
  /** Next input offset of the last checkpoint (-1: none yet). */
  nextOffset: number;
  /** The partition's watermark at that checkpoint (-Infinity when unknown). */
  watermark: number;
  outboxSeq: number;
}

export async function readProgress(db: Pick<pg.ClientBase, 'query'>, group: string, topic: string): Promise<Map<number, PartitionProgress>> {
  const { rows } = await db.query<{ partition: number; next_offset: string; watermark: { watermark?: number | null } | null; outbox_seq: string }>(
    `SELECT partition, next_offset, watermark, outbox_seq FROM processor_partitions WHERE consumer_group = $1 AND topic = $2`,
    [group, topic],
  );
  const out = new Map<number, PartitionProgress>();
  for (const r of rows) {
    const wm = r.watermark?.watermark;
    out.set(r.partition, {
      partition: r.partition,
      nextOffset: Number(r.next_offset),
      watermark: typeof wm === 'number' && Number.isFinite(wm) ? wm : Number.NEGATIVE_INFINITY,
      outboxSeq: Number(r.outbox_seq),
    });
  }
  return out;
}

async function undelivered(db: Pick<pg.ClientBase, 'query'>, group: string, topic: string, progress: Map<number, PartitionProgress>): Promise<number> {
  const parts = [...progress.values()];
  if (parts.length === 0) return 0;
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n
       FROM unnest($3::int[], $4::int8[]) AS m(partition, seq)
       JOIN processor_outbox o ON o.consumer_group = $1 AND o.topic = $2 AND o.partition = m.partition AND o.seq <= m.seq`,
    [group, topic, parts.map((p) => p.partition), parts.map((p) => p.outboxSeq)],
  );
  return rows[0]!.n;
}

export interface CatchUp {
  caughtUp: boolean;
  progress: Map<number, PartitionProgress>;
  /** Partitions the processor has not checkpointed up to the audit's end offset, as text. */
  behind: string[];
}

/**
 * Waits (up to `timeoutMs`) until every partition's checkpoint is at or past `ends` and the
 * outbox entries written up to those checkpoints have been delivered to Kafka.
 */
export async function waitForProcessor(
  db: Pick<pg.ClientBase, 'query'>,
  { group, topic, ends, timeoutMs, onWait }: { group: string; topic: string; ends: ReadonlyMap<number, number>; timeoutMs: number; onWait?: (line: string) => void },
): Promise<CatchUp> {
  const deadline = Date.now() + timeoutMs;
  let lastNote = 0;
  for (;;) {
    const progress = await readProgress(db, group, topic);
    const behind: string[] = [];
    for (const [partition, end] of ends) {
      if (end <= 0) continue;
      const at = progress.get(partition)?.nextOffset ?? -1;
      if (at < end) behind.push(`partition ${partition} at ${at < 0 ? 'no checkpoint' : `offset ${at}`} of ${end}`);
    }
    const waiting = behind.length === 0 ? await undelivered(db, group, topic, progress) : 0;
    if (behind.length === 0 && waiting === 0) return { caughtUp: true, progress, behind };
    if (Date.now() >= deadline) {
      if (behind.length === 0) behind.push(`${waiting} outbox entries not yet on Kafka`);
      return { caughtUp: false, progress, behind };
    }
    if (Date.now() - lastNote >= 1000) {
      lastNote = Date.now();
      onWait?.(`waiting for processor group ${group}: ${behind.length > 0 ? behind.slice(0, 3).join(', ') : `${waiting} outbox entries not yet on Kafka`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
