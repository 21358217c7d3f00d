import type pg from 'pg';

export interface ErasureRecord {
  seq: number;
  siteId: string;
  userId: string;
  erasedAt: Date;
  /** Keys of the rows removed: deletion markers go to user-metrics and user-sessions for each. */
  windowStarts: Date[];
  sessionStarts: Date[];
}

/** The newest `processor_outbox` entry of one processor input partition. */
export interface OutboxMark {
  consumerGroup: string;
  topic: string;
  partition: number;
  seq: number;
}

export interface ErasureResult {
  records: ErasureRecord[];
  /**
   * The highest outbox entry per processor partition when the erasure committed, read while it
   * held the gate: every result of this user that a checkpoint committed before the erasure is in
   * an entry at or below these (or already on Kafka). Deletion markers go out only once those are
   * delivered, so they land after the records they delete.
   */
  outboxHighWater: OutboxMark[];
}

/**
 * Records the erasure of a user (contract, "Erasure") on one site, or on every site that holds
 * rows of theirs when `siteId` is undefined, in one transaction: the erasure gate is taken
 * exclusively (no processor checkpoint is in flight while this runs; every later one sees the
 * erasure and leaves the user's rows out), then the user's windows, visits and presence rows go,
 * and the log row keeps the deleted keys for the deletion markers. Site aggregates keep their
 * counts: they hold nothing personal. Also returns the outbox high-water marks the markers must
 * wait for (see ErasureResult).
 */
export async function recordErasure(client: pg.ClientBase, userId: string, siteId: string | undefined): Promise<ErasureResult> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT 1 FROM erasure_gate FOR UPDATE');
    const sites =
      siteId !== undefined
        ? [siteId]
        : (
            await client.query<{ site_id: string }>(
              // A loose index scan over the few sites: no index leads with user_id on user_metrics.
              `WITH RECURSIVE sites AS (
                 SELECT min(site_id) AS site_id FROM user_metrics
                 UNION ALL
                 SELECT (SELECT min(site_id) FROM user_metrics WHERE site_id > sites.site_id) FROM sites WHERE sites.site_id IS NOT NULL)
               SELECT site_id FROM sites WHERE site_id IS NOT NULL
               UNION SELECT DISTINCT site_id FROM user_sessions WHERE user_id = $1`,
              [userId],
            )
          ).rows.map((r) => r.site_id);
    const records: ErasureRecord[] = [];
    for (const site of sites) {
      const windows = await client.query<{ window_start: Date }>(
        'DELETE FROM user_metrics WHERE site_id = $1 AND user_id = $2 RETURNING window_start',
        [site, userId],
      );
      const sessions = await client.query<{ session_start: Date }>(
        'DELETE FROM user_sessions WHERE site_id = $1 AND user_id = $2 RETURNING session_start',
        [site, userId],
      );
      await client.query('DELETE FROM visitor_presence WHERE site_id = $1 AND user_id = $2', [site, userId]);
      if (siteId === undefined && windows.rowCount === 0 && sessions.rowCount === 0) continue;
      const windowStarts = windows.rows.map((r) => r.window_start);
      const sessionStarts = sessions.rows.map((r) => r.session_start);
      const logged = await client.query<{ seq: string; erased_at: Date }>(
        `INSERT INTO user_erasures (site_id, user_id, erased_at, window_starts, session_starts, markers_sent)
         VALUES ($1, $2, now(), $3, $4, $5) RETURNING seq, erased_at`,
        [site, userId, windowStarts, sessionStarts, windowStarts.length === 0 && sessionStarts.length === 0],
      );
      records.push({ seq: Number(logged.rows[0]!.seq), siteId: site, userId, erasedAt: logged.rows[0]!.erased_at, windowStarts, sessionStarts });
    }
    // Under the gate no checkpoint is in flight, so this snapshot holds every outbox entry committed
    // before the erasure that has not been delivered (and trimmed) yet.
    const outboxHighWater = await readOutboxHighWater(client);
    await client.query('COMMIT');
    return { records, outboxHighWater };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Erasures whose deletion markers are not on Kafka yet (the dashboard died before sending them). */
export async function pendingErasureMarkers(client: Pick<pg.ClientBase, 'query'>, limit = 100): Promise<ErasureRecord[]> {
  const { rows } = await client.query<{ seq: string; site_id: string; user_id: string; erased_at: Date; window_starts: Date[]; session_starts: Date[] }>(
    `SELECT seq, site_id, user_id, erased_at, window_starts, session_starts FROM user_erasures WHERE NOT markers_sent ORDER BY seq LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ seq: Number(r.seq), siteId: r.site_id, userId: r.user_id, erasedAt: r.erased_at, windowStarts: r.window_starts, sessionStarts: r.session_starts }));
}

export async function markErasureMarkersSent(client: Pick<pg.ClientBase, 'query'>, seq: number): Promise<void> {
  await client.query('UPDATE user_erasures SET markers_sent = true WHERE seq = $1', [seq]);
}

/**
 * The highest outbox entry per (consumer group, topic, partition) now. For an erasure read later
 * (a marker resend) this bounds from above whatever was undelivered when it committed: entries
 * are numbered upwards per partition and deleted only once on Kafka.
 */
export async function readOutboxHighWater(client: Pick<pg.ClientBase, 'query'>): Promise<OutboxMark[]> {
  const { rows } = await client.query<{ consumer_group: string; topic: string; partition: number; seq: string }>(
    `SELECT consumer_group, topic, partition, max(seq) AS seq FROM processor_outbox GROUP BY consumer_group, topic, partition`,
  );
  return rows.map((r) => ({ consumerGroup: r.consumer_group, topic: r.topic, partition: r.partition, seq: Number(r.seq) }));
}

/** How many outbox entries at or below the marks are still waiting for delivery to Kafka. */
export async function outboxEntriesBelow(client: Pick<pg.ClientBase, 'query'>, marks: readonly OutboxMark[]): Promise<number> {
  if (marks.length === 0) return 0;
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n
       FROM unnest($1::text[], $2::text[], $3::int[], $4::int8[]) AS m(consumer_group, topic, partition, seq)
       JOIN processor_outbox o
         ON o.consumer_group = m.consumer_group AND o.topic = m.topic AND o.partition = m.partition AND o.seq <= m.seq`,
    [marks.map((m) => m.consumerGroup), marks.map((m) => m.topic), marks.map((m) => m.partition), marks.map((m) => m.seq)],
  );
  return rows[0]!.n;
}
