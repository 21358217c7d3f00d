import type pg from 'pg';
import type { Erasure } from '../operators/erasure.js';
import type { Checkpoint } from './checkpoint-store.js';
import type { OutboxRecord } from './outbox-codec.js';

/** How far back a claim loads erasures: raw events older than this are gone from the topic. */
export const ERASURE_LOOKBACK_DAYS = 30;

interface ErasureRow {
  seq: string;
  site_id: string;
  user_id: string;
  erased_at: Date;
}

const toErasure = (r: ErasureRow): Erasure => ({ seq: Number(r.seq), siteId: r.site_id, userId: r.user_id, erasedAt: r.erased_at.getTime() });

/** Erasures a restored operator must apply, newest sequence number included. */
export async function recentErasures(client: Pick<pg.ClientBase, 'query'>): Promise<Erasure[]> {
  const { rows } = await client.query<ErasureRow>(
    `SELECT seq, site_id, user_id, erased_at FROM user_erasures WHERE erased_at > now() - make_interval(days => $1) ORDER BY seq`,
    [ERASURE_LOOKBACK_DAYS],
  );
  return rows.map(toErasure);
}

/**
 * Inside a checkpoint transaction: waits out any erasure being recorded (the gate), then returns
 * the erasures committed since `afterSeq`. Holding the gate until commit means an erasure recorded
 * later deletes whatever this checkpoint writes.
 */
export async function erasuresSince(client: Pick<pg.ClientBase, 'query'>, afterSeq: number): Promise<Erasure[]> {
  await client.query('SELECT 1 FROM erasure_gate FOR SHARE');
  const { rows } = await client.query<ErasureRow>(`SELECT seq, site_id, user_id, erased_at FROM user_erasures WHERE seq > $1 ORDER BY seq`, [afterSeq]);
  return rows.map(toErasure);
}

/**
 * A checkpoint cut before its processor knew of `erasures` may hold the erased users' rows and
 * records: this copy leaves out everything of theirs up to each erasure time.
 */
export function withoutErased(checkpoint: Checkpoint, erasures: readonly Erasure[]): Checkpoint {
  const erasedAt = new Map<string, number>();
  for (const e of erasures) {
    const key = `${e.siteId}\u0000${e.userId}`;
    erasedAt.set(key, Math.max(erasedAt.get(key) ?? Number.NEGATIVE_INFINITY, e.erasedAt));
  }
  const erased = (siteId: string, userId: string, time: number) => {
    const at = erasedAt.get(`${siteId}\u0000${userId}`);
    return at !== undefined && time <= at;
  };
  const users = new Set(erasures.map((e) => e.userId));
  const keepRecord = (record: OutboxRecord): boolean => {
    if (record.k === null || !users.has(record.k)) return true;
    const value = JSON.parse(record.v) as { siteId: string; userId: string; windowStart?: string; sessionStart?: string; eventTime?: number; deleted?: boolean };
    if (value.deleted) return true;
    const time = record.t === 'metrics' ? Date.parse(value.windowStart!) : record.t === 'sessions' ? Date.parse(value.sessionStart!) : (value.eventTime ?? 0);
    return !erased(value.siteId, value.userId, time);
  };
  return {
    ...checkpoint,
    results: checkpoint.results.filter((r) => !erased(r.siteId, r.userId, Date.parse(r.windowStart))),
    visits: checkpoint.visits.filter((v) => !erased(v.siteId, v.userId, Date.parse(v.sessionStart))),
    site: { stats: checkpoint.site.stats, presence: checkpoint.site.presence.filter((p) => !erased(p.siteId, p.userId, p.quarter)) },
    outbox: checkpoint.outbox.map((entry) => ({ seq: entry.seq, records: entry.records.filter(keepRecord) })),
  };
}
