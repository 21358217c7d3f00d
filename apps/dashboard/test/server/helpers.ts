import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import type { WindowResult } from '@clickstream/shared';
import { createTestDatabase, testBrokers, testScope } from '@clickstream/local-infra/testing';
import { buildDashboardApp } from '../../src/server/app.js';
import { parseDashboardConfig, type DashboardConfig } from '../../src/server/env.js';
import { KafkaMarkerSink, UserErasure, type UserErasureOptions } from '../../src/server/erasure.js';
import { LiveHub, type LiveHubStats } from '../../src/server/live/live-hub.js';
import { MetricsConsumer } from '../../src/server/live/metrics-consumer.js';
import { createDashboardMetrics } from '../../src/server/metrics.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TOKEN}` };
/** Read-only tokens (API_READ_TOKENS) of the test dashboards. */
export const READ_TOKENS = ['read-token-dashboards-0123', 'read-token-scripts-456789'] as const;
export const READ_AUTH = { authorization: `Bearer ${READ_TOKENS[0]}` };

type Scope = ReturnType<typeof testScope>;

export function windowResult(partial: Partial<WindowResult> & { userId: string; windowStart: string }): WindowResult {
  const start = Date.parse(partial.windowStart);
  return {
    siteId: 'default',
    windowEnd: new Date(start + 5000).toISOString(),
    events: 1,
    pageViews: 1,
    clicks: 0,
    customEvents: 0,
    uniquePages: 1,
    engagedMs: 0,
    sessions: 1,
    revision: 0,
    ...partial,
  };
}

/** Inserts window rows the way the processor's sink stores them. */
export async function seedWindows(pool: pg.Pool, results: WindowResult[], updatedAt?: Date): Promise<void> {
  if (results.length === 0) return;
  await pool.query(
    `INSERT INTO user_metrics (site_id, user_id, window_start, window_end, events, page_views, clicks,
                               custom_events, unique_pages, engaged_ms, sessions, revision, updated_at)
     SELECT r."siteId", r."userId", r."windowStart", r."windowEnd", r.events, r."pageViews", r.clicks,
            r."customEvents", r."uniquePages", r."engagedMs", r.sessions, r.revision, coalesce($2, now())
       FROM jsonb_to_recordset($1::jsonb) AS r(
              "siteId" text, "userId" text, "windowStart" timestamptz, "windowEnd" timestamptz,
              events int, "pageViews" int, clicks int, "customEvents" int, "uniquePages" int,
              "engagedMs" int, sessions int, revision int)`,
    [JSON.stringify(results), updatedAt ?? null],
  );
}

export interface TestDashboard {
  app: FastifyInstance;
  pool: pg.Pool;
  hub: LiveHub;
  config: DashboardConfig;
  consumer: MetricsConsumer;
  erasure: UserErasure;
}

/**
 * A dashboard app on a fresh migrated database. The live consumer is real; it joins the broker
 * only when `startConsumer` is set (route tests do not need Kafka).
 */
export async function startTestDashboard(
  t: Scope,
  options: {
    env?: Record<string, string>;
    now?: () => number;
    startConsumer?: boolean;
    databaseUrl?: string;
    hubStats?: LiveHubStats;
    log?: (message: string) => void;
    /**
     * Deletion markers of erasures: sent to Kafka (the config's topics) and the resend loop
     * started when set; otherwise erasures stay pending.
     */
    erasureMarkers?: UserErasureOptions;
  } = {},
): Promise<TestDashboard> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase(t));
  const config = parseDashboardConfig({
    KAFKA_BROKERS: testBrokers().join(','),
    DATABASE_URL: databaseUrl,
    API_TOKEN: TOKEN,
    API_READ_TOKENS: READ_TOKENS.join(','),
    DASHBOARD_PORT: '0',
    DASHBOARD_HOST: '127.0.0.1',
    ...options.env,
  });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 3000 });
  pool.on('error', () => {});
  t.after(() => pool.end());
  const hub = new LiveHub(config.liveMaxBufferedBytes, options.hubStats);
  const metrics = createDashboardMetrics(() => hub.size);
  const consumer = new MetricsConsumer({
    brokers: config.kafkaBrokers,
    topic: config.topics.metrics,
    onResult: (r) => hub.broadcast(r),
    onDeleted: (m) => hub.broadcastDeletion(m),
  });
  if (options.startConsumer) {
    consumer.start();
    t.after(() => consumer.stop());
    await consumer.ready();
  }
  const markers = options.erasureMarkers;
  const erasure = new UserErasure(pool, markers ? { sink: new KafkaMarkerSink(config.kafkaBrokers, config.topics), ...markers } : {});
  if (markers) {
    erasure.start();
    t.after(() => erasure.stop());
  }
  const app = await buildDashboardApp({ config, db: pool, hub, consumer, metrics, now: options.now, log: options.log, erasure });
  t.after(() => app.close());
  return { app, pool, hub, config, consumer, erasure };
}
