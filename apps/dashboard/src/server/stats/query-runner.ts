import pg from 'pg';
import { echoRange, type StatsQuery } from './query-parser.js';
import type { MetricWarning, QueryPlan } from './query-planner.js';

/**
 * Runs planned stats queries on a pool of their own: at most STATS_POOL_SIZE connections, each
 * with `statement_timeout` = QUERY_TIMEOUT_MS, so that however many dashboards ask, the
 * processor's checkpoints never wait for a database connection behind an analytics query.
 */

export const STATS_POOL_SIZE = 4;

export type StatsDb = Pick<pg.Pool, 'query'>;

export function createStatsPool(databaseUrl: string, timeoutMs: number, onIdleError: (message: string) => void = () => {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: STATS_POOL_SIZE,
    application_name: 'clickstream-dashboard-stats',
    // Cancelled by the server past it, lock waits included; the connection stays usable.
    statement_timeout: timeoutMs,
    // A query waits at most this long for one of the pool's connections, then answers 503.
    connectionTimeoutMillis: Math.max(timeoutMs, 1000),
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (error) => onIdleError(`idle stats query connection failed: ${error.message}`));
  return pool;
}

/** PostgreSQL cancelled the statement: statement_timeout (SQLSTATE 57014 query_canceled). */
export function isQueryTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '57014';
}

export interface StatsAnswer {
  results: Array<{ dimensions: string[]; metrics: number[] }>;
  meta: { total_rows?: number; metric_warnings?: Record<string, MetricWarning> };
  query: {
    site_id: string;
    metrics: string[];
    date_range: [string, string];
    timezone: string;
    filters: unknown[];
    dimensions: string[];
    order_by: Array<[string, string]>;
    include?: { total_rows: boolean };
    pagination: { limit: number; offset: number };
  };
}

export async function runStatsQuery(db: StatsDb, q: StatsQuery, plan: QueryPlan): Promise<StatsAnswer> {
  const { rows } = await db.query<Record<string, string | null>>(plan.sql, plan.params);
  const results = rows.map((row) => ({
    dimensions: plan.dimensions.map((_, i) => row[`d${i}`] ?? ''),
    metrics: plan.metrics.map((m) => Number(row[`m_${m}`] ?? 0)),
  }));
  const meta: StatsAnswer['meta'] = {};
  if (plan.includeTotalRows) meta.total_rows = rows.length > 0 ? Number(rows[0]!.total_rows) : await countRows(db, q, plan);
  if (Object.keys(plan.metricWarnings).length > 0) meta.metric_warnings = plan.metricWarnings;
  return {
    results,
    meta,
    query: {
      site_id: q.siteId,
      metrics: q.metrics,
      date_range: echoRange(q),
      timezone: q.timezone,
      filters: q.rawFilters,
      dimensions: plan.dimensions,
      order_by: q.orderBy,
      ...(q.includeTotalRows ? { include: { total_rows: true } } : {}),
      pagination: { limit: q.limit, offset: q.offset },
    },
  };
}

/** total_rows when the page is past the end: the count window ran over no returned row. */
async function countRows(db: StatsDb, q: StatsQuery, plan: QueryPlan): Promise<number> {
  if (q.offset === 0) return 0;
  // The same statement from the first row: LIMIT and OFFSET are its last two parameters.
  const params = [...plan.params];
  params[params.length - 1] = 0;
  params[params.length - 2] = 1;
  const { rows } = await db.query<{ total_rows: string }>(plan.sql, params);
  return rows.length > 0 ? Number(rows[0]!.total_rows) : 0;
}
