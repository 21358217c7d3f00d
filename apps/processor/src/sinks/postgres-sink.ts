import type pg from 'pg';
import type { WindowResult } from '@clickstream/shared';
import { upsertWindowResults } from '@clickstream/db';

/**
 * The PostgreSQL side of a checkpoint's output: result rows written inside the checkpoint's own
 * transaction, so rows, offsets and state commit together or not at all. Each upsert is guarded
 * by revision, so a replay after a crash cannot move a row backwards.
 */
export async function writeResults(client: pg.ClientBase, results: readonly WindowResult[]): Promise<void> {
  if (results.length > 0) await upsertWindowResults(client, results as WindowResult[]);
}
