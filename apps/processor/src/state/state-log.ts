import type { OperatorDelta } from '../operators/window-operator.js';
import type { WindowSnapshot } from '../operators/window-aggregate.js';

/**
 * The partition's state log (table processor_state_log): each checkpoint appends the windows it
 * changed and removed; once the log since the last snapshot outgrows the state several times
 * over, a snapshot replaces it. Restoring replays the latest snapshot and the deltas after it.
 */
export interface StateLogEntry {
  seq: number;
  kind: 'delta' | 'snapshot';
  /** JSON of an OperatorDelta ('delta') or of WindowSnapshot[] ('snapshot'). */
  payload: string;
}

/** Rebuilds the windows from the latest snapshot and the deltas after it, in order. */
export function replayStateLog(entries: Array<{ kind: 'delta' | 'snapshot'; payload: string }>): WindowSnapshot[] {
  const windows = new Map<string, WindowSnapshot>();
  const key = (w: { siteId: string; userId: string; start: number }) => `${w.siteId}\u0000${w.userId}\u0000${w.start}`;
  for (const entry of entries) {
    if (entry.kind === 'snapshot') {
      windows.clear();
      for (const w of JSON.parse(entry.payload) as WindowSnapshot[]) windows.set(key(w), w);
      continue;
    }
    const delta = JSON.parse(entry.payload) as Pick<OperatorDelta, 'upserts' | 'removals'>;
    for (const w of delta.upserts) windows.set(key(w), w);
    for (const r of delta.removals) windows.delete(key(r));
  }
  return [...windows.values()];
}

