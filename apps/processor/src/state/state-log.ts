import type { PartitionDelta } from '../operators/partition-operator.js';
import type { VisitSnapshot } from '../operators/session-windows.js';
import type { WindowSnapshot } from '../operators/window-aggregate.js';

/**
 * The partition's state log (table processor_state_log): each checkpoint appends the windows it
 * changed and removed; once the log since the last snapshot outgrows the state several times
 * over, a snapshot replaces it. Restoring replays the latest snapshot and the deltas after it.
 */
export interface StateLogEntry {
  seq: number;
  kind: 'delta' | 'snapshot';
  /** JSON of a PartitionDelta ('delta') or of a snapshot of the state ('snapshot'). */
  payload: string;
}

/** What a restore starts from: the operators' state as of the last committed entry. */
export interface ReplayedState {
  windows: WindowSnapshot[];
  visits: VisitSnapshot[];
  nextVisitId: number;
}

/** A snapshot entry's payload; entries written before visits existed hold the windows alone. */
type SnapshotPayload = WindowSnapshot[] | { windows: WindowSnapshot[]; visits: VisitSnapshot[]; nextVisitId: number };

/** Rebuilds the state from the latest snapshot and the deltas after it, in order. */
export function replayStateLog(entries: Array<{ kind: 'delta' | 'snapshot'; payload: string }>): ReplayedState {
  const windows = new Map<string, WindowSnapshot>();
  const visits = new Map<number, VisitSnapshot>();
  let nextVisitId = 1;
  const key = (w: { siteId: string; userId: string; start: number }) => `${w.siteId}\u0000${w.userId}\u0000${w.start}`;
  for (const entry of entries) {
    if (entry.kind === 'snapshot') {
      windows.clear();
      visits.clear();
      const payload = JSON.parse(entry.payload) as SnapshotPayload;
      const snapshot = Array.isArray(payload) ? { windows: payload, visits: [], nextVisitId } : payload;
      for (const w of snapshot.windows) windows.set(key(w), w);
      for (const v of snapshot.visits) visits.set(v.vid, v);
      nextVisitId = Math.max(nextVisitId, snapshot.nextVisitId);
      continue;
    }
    const delta = JSON.parse(entry.payload) as Pick<PartitionDelta, 'upserts' | 'removals'> & Partial<Pick<PartitionDelta, 'visits' | 'nextVisitId'>>;
    for (const w of delta.upserts) windows.set(key(w), w);
    for (const r of delta.removals) windows.delete(key(r));
    for (const v of delta.visits?.upserts ?? []) visits.set(v.vid, v);
    for (const vid of delta.visits?.removals ?? []) visits.delete(vid);
    nextVisitId = Math.max(nextVisitId, delta.nextVisitId ?? 1);
  }
  return { windows: [...windows.values()], visits: [...visits.values()], nextVisitId };
}
