import type pg from 'pg';

/**
 * Site totals per window live in `site_window_totals`; every write to `user_metrics` appends an
 * aggregated delta to `site_window_deltas` (statement triggers, migration
 * 1795589907102_dashboard-timeline-rollup). Folding moves committed deltas into the totals in one
 * transaction, so a reader of totals + deltas sees each delta exactly once whether or not a fold
 * ran in between. Folding keeps the deltas table small; it is never needed for correctness.
 */

// Any 64-bit constant: dashboards fold one at a time rather than queue on the same totals rows.
// 0x636c6b7374726d ("clkstrm"), as text: it is past 2^53, where a JavaScript number rounds it.
const FOLD_LOCK = '27985231448666733';

export async function foldDeltas(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [FOLD_LOCK]);
    if (!rows[0]?.locked) {
      await client.query('ROLLBACK');
      return 0;
    }
    const { rowCount } = await client.query(
      `WITH moved AS (DELETE FROM site_window_deltas RETURNING *)
       INSERT INTO site_window_totals AS t (site_id, window_start, active_users, events, page_views, clicks, engaged_ms)
       SELECT site_id, window_start, sum(active_users), sum(events), sum(page_views), sum(clicks), sum(engaged_ms)
         FROM moved GROUP BY site_id, window_start
       ON CONFLICT (site_id, window_start) DO UPDATE SET
         active_users = t.active_users + EXCLUDED.active_users, events = t.events + EXCLUDED.events,
         page_views = t.page_views + EXCLUDED.page_views, clicks = t.clicks + EXCLUDED.clicks,
         engaged_ms = t.engaged_ms + EXCLUDED.engaged_ms`,
    );
    await client.query('COMMIT');
    return rowCount ?? 0;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Folds every `intervalMs` in the background; failures (database down) just wait for the next turn. */
export class RollupFolder {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly intervalMs: number,
    private readonly log: (message: string) => void = () => {},
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running = foldDeltas(this.pool).catch((error: Error) => this.log(`timeline rollup fold failed: ${error.message}`));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
