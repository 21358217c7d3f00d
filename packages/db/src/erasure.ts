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

/**
 * Records the erasure of a user (contract, "Erasure") on one site, or on every site that holds
 * rows of theirs when `siteId` is undefined, in one transaction: the erasure gate is taken
 * exclusively (no processor checkpoint is in flight while this runs; every later one sees the
 * erasure and leaves the user's rows out), then the user's windows, visits and presence rows go,
 * and the log row keeps the deleted keys for the deletion markers. Site aggregates keep their
 * counts: they hold nothing personal.
 */
export async function recordErasure(client: pg.ClientBase, userId: string, siteId: string | undefined): Promise<ErasureRecord[]> {
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
    await client.query('COMMIT');
    return records;
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
