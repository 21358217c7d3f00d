/**
 * Clients of the routes the overview and the pipeline panel read: POST /api/v1/query (the
 * contract's "Stats query API", Plausible's v2 shape), GET /api/v1/sites, GET /api/v1/pipeline and
 * GET /api/v1/properties. Same rules as api.ts: bearer token, 401 → UnauthorizedError.
 */
import { ApiError, UnauthorizedError } from './api.js';
import type { DateRange } from './overview-model.js';
import type { Pipeline } from './pipeline-types.js';

export type * from './pipeline-types.js';

export interface StatsQuery {
  site_id: string;
  metrics: string[];
  date_range: DateRange;
  timezone?: string;
  dimensions?: string[];
  filters?: unknown[];
  order_by?: Array<[string, 'asc' | 'desc']>;
  pagination?: { limit?: number; offset?: number };
}

export interface StatsAnswer {
  results: Array<{ dimensions: string[]; metrics: number[] }>;
  meta: { total_rows?: number; metric_warnings?: Record<string, { code: string; warning: string }> };
  query: { date_range: [string, string]; timezone: string };
}

export interface SiteEntry {
  siteId: string;
  lastSeen?: string;
}

/** The browser's IANA time zone: "today" is the viewer's day. */
export const BROWSER_TIME_ZONE = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
})();

async function call<T>(token: string, method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? null : JSON.stringify(body),
    signal: signal ?? null,
  });
  if (response.status === 401) throw new UnauthorizedError();
  if (!response.ok) {
    const answer = (await response.json().catch(() => ({}))) as { message?: string };
    throw new ApiError(response.status, answer.message ?? `the API answered ${response.status}`);
  }
  return (await response.json()) as T;
}

export const queryStats = (token: string, query: StatsQuery, signal?: AbortSignal) =>
  call<StatsAnswer>(token, 'POST', '/query', { timezone: BROWSER_TIME_ZONE, ...query }, signal);

export const fetchSites = async (token: string, signal?: AbortSignal) => (await call<{ sites: SiteEntry[] }>(token, 'GET', '/sites', undefined, signal)).sites;

export const fetchPipeline = (token: string, signal?: AbortSignal) => call<Pipeline>(token, 'GET', '/pipeline', undefined, signal);

export async function fetchPropertyKeys(token: string, siteId: string, from: number, to: number, signal?: AbortSignal): Promise<string[]> {
  const query = new URLSearchParams({ siteId, from: String(from), to: String(to) });
  return (await call<{ properties: string[] }>(token, 'GET', `/properties?${query}`, undefined, signal)).properties;
}
