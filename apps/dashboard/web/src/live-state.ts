/**
 * Pure state of the live activity list: the newest committed window results, one row per
 * (user, window), where a later revision replaces the earlier one and is flagged as a correction.
 * Replayed duplicates (same revision, after a reconnect) change nothing; an erased window's row goes.
 */
import type { WindowDeletionMarker, WindowResult } from '@clickstream/shared';

export interface LiveRow {
  key: string;
  result: WindowResult;
  receivedAt: number;
  /** True when this row replaced an earlier revision of the same window. */
  corrected: boolean;
}

export interface LiveState {
  rows: LiveRow[];
  sites: string[];
  lastReceivedAt: number | undefined;
}

export const EMPTY_LIVE_STATE: LiveState = Object.freeze({ rows: [], sites: [], lastReceivedAt: undefined }) as LiveState;

export const LIVE_ROWS_KEPT = 200;

export function liveKey(r: Pick<WindowResult, 'siteId' | 'userId' | 'windowStart'>): string {
  return JSON.stringify([r.siteId, r.userId, r.windowStart]);
}

/** Returns the same object when the message changes nothing, so React can skip a render. */
export function applyLiveResult(state: LiveState, result: WindowResult, receivedAt: number): LiveState {
  const key = liveKey(result);
  const existing = state.rows.find((row) => row.key === key);
  const sites = state.sites.includes(result.siteId) ? state.sites : [...state.sites, result.siteId].sort();
  if (existing && existing.result.revision >= result.revision) {
    return sites === state.sites ? state : { ...state, sites };
  }
  const row: LiveRow = { key, result, receivedAt, corrected: existing !== undefined || result.revision > 0 };
  const rows = [row, ...state.rows.filter((r) => r.key !== key)]
    .sort((a, b) => Date.parse(b.result.windowStart) - Date.parse(a.result.windowStart) || b.receivedAt - a.receivedAt)
    .slice(0, LIVE_ROWS_KEPT);
  return { rows, sites, lastReceivedAt: Math.max(receivedAt, state.lastReceivedAt ?? 0) };
}

/** Drops the row of an erased window (a `deleted` live message); the same object when none is shown. */
export function applyLiveDeletion(state: LiveState, deleted: LiveDeletion): LiveState {
  const key = liveKey(deleted);
  if (!state.rows.some((row) => row.key === key)) return state;
  return { ...state, rows: state.rows.filter((row) => row.key !== key) };
}

export type LiveDeletion = Pick<WindowDeletionMarker, 'siteId' | 'userId' | 'windowStart'>;

/** A `{"type":"deleted","data":{siteId,userId,windowStart}}` message, or undefined. */
export function parseLiveDeletion(text: string): LiveDeletion | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!message || typeof message !== 'object') return undefined;
  const { type, data } = message as { type?: unknown; data?: unknown };
  if (type !== 'deleted' || !data || typeof data !== 'object') return undefined;
  const { siteId, userId, windowStart } = data as Record<string, unknown>;
  if (typeof siteId !== 'string' || typeof userId !== 'string' || typeof windowStart !== 'string') return undefined;
  return { siteId, userId, windowStart };
}

/** Validates the shape of a live message enough that rendering it cannot throw. */
export function parseLiveMessage(text: string): WindowResult | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!message || typeof message !== 'object') return undefined;
  const { type, data } = message as { type?: unknown; data?: unknown };
  if (type !== 'window' || !data || typeof data !== 'object') return undefined;
  const d = data as Record<string, unknown>;
  const strings = ['siteId', 'userId', 'windowStart', 'windowEnd'] as const;
  const numbers = ['events', 'pageViews', 'clicks', 'customEvents', 'uniquePages', 'engagedMs', 'sessions', 'revision'] as const;
  if (!strings.every((k) => typeof d[k] === 'string')) return undefined;
  if (!numbers.every((k) => typeof d[k] === 'number' && Number.isFinite(d[k]))) return undefined;
  if (!Number.isFinite(Date.parse(d.windowStart as string))) return undefined;
  return data as WindowResult;
}
