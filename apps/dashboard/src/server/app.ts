import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import { fastifyLogging } from '@clickstream/shared/fastify-logger';
import type { Logger } from '@clickstream/shared/logger';
import { ApiTokens, bearerToken, mayAccess } from './auth.js';
import { registerDocs } from './docs.js';
import type { DashboardConfig } from './env.js';
import type { UserErasure } from './erasure.js';
import { DASHBOARD_ERRORS, DashboardError } from './errors.js';
import type { LiveHub } from './live/live-hub.js';
import type { DashboardMetrics } from './metrics.js';
import type { Queryable } from './metrics-store.js';
import { liveRoute } from './routes/live-route.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { pipelineRoutes } from './routes/pipeline-routes.js';
import { propertyRoutes } from './routes/property-routes.js';
import { statsRoutes } from './routes/stats-routes.js';
import { staticRoutes } from './routes/static-routes.js';
import { registerSecurityHeaders } from './security-headers.js';
import { createStatsPool, type StatsDb } from './stats/query-runner.js';

export interface DashboardDeps {
  config: DashboardConfig;
  db: Queryable;
  hub: LiveHub;
  /** The live feed's Kafka consumer, as /healthz sees it. */
  consumer: { healthy(): boolean };
  metrics: DashboardMetrics;
  now?: () => number;
  /** Where server-side failures are reported; the logger's error level by default. */
  log?: (message: string) => void;
  /** The service's logger (createLogger): Fastify's own, one line per request at info. */
  logger?: Logger;
  /** DELETE /api/v1/users/{userId}: the erasure and its deletion markers (started and stopped by its owner). */
  erasure: Pick<UserErasure, 'erase'>;
  /** The stats queries' own bounded pool; made from config (and closed with the app) when absent. */
  statsDb?: StatsDb;
}

const LIVE_ROUTE = '/api/v1/live';

// SQLSTATE classes: 22 data exception (a value the database refuses), 08 connection, 53 resources,
// 57 operator intervention (statement timeout, shutdown). node-postgres reports a lost or
// timed-out connection with a bare message and no code.
function databaseErrorStatus(error: { code?: string; message: string; statusCode?: number }): 400 | 503 | undefined {
  const code = error.code ?? '';
  if (/^22[0-9A-Z]{3}$/.test(code)) return 400;
  if (/^(08|53|57)[0-9A-Z]{3}$/.test(code) || /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EPIPE)$/.test(code)) return 503;
  if (error.statusCode === undefined && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(error.message)) {
    return 503;
  }
  return undefined;
}

function errorHandler(log: (message: string) => void) {
  return (error: FastifyError & { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof DashboardError) {
      if (error.status === 401) reply.header('www-authenticate', 'Bearer');
      if (error.status === 503) reply.header('retry-after', '2');
      return reply.status(error.status).send(error.toJSON());
    }
    if (error.validation) {
      return reply.status(400).send({ error: DASHBOARD_ERRORS.INVALID_PARAMETER.error, message: error.message });
    }
    const dbStatus = databaseErrorStatus(error);
    if (dbStatus === 400) {
      return reply.status(400).send({ error: DASHBOARD_ERRORS.INVALID_PARAMETER.error, message: 'a parameter holds a value the database cannot use' });
    }
    if (dbStatus === 503) {
      log(`database unavailable for ${request.method} ${request.routeOptions.url ?? '?'}: ${error.message}`);
      reply.header('retry-after', '2');
      return reply.status(503).send(DASHBOARD_ERRORS.UNAVAILABLE);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = status === 404 ? 'not_found' : status === 405 ? 'method_not_allowed' : status === 413 ? 'body_too_large' : status === 415 ? 'unsupported_media_type' : 'invalid_request';
      return reply.status(status).send({ error: code, message: error.message });
    }
    log(`internal error on ${request.method} ${request.routeOptions.url ?? '?'}: ${error.stack ?? error.message}`);
    return reply.status(500).send({ error: 'internal', message: 'internal error' });
  };
}

/**
 * The dashboard process's HTTP side: Query API and live feed under /api/v1 (token required),
 * /docs, /healthz, /metrics, the web UI and the demo shop.
 */
export async function buildDashboardApp(deps: DashboardDeps): Promise<FastifyInstance> {
  const { config, db, hub, consumer, metrics } = deps;
  const now = deps.now ?? Date.now;
  const logger = deps.logger;
  const log = deps.log ?? (logger ? (message: string) => logger.error(message) : () => {});
  const app = Fastify({
    ...(logger ? fastifyLogging(logger) : { logger: false }),
    // A 128-character user id, percent-encoded, is up to 1,536 characters long.
    routerOptions: { maxParamLength: 2048 },
    bodyLimit: 16 * 1024,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // Without a request timeout (Fastify's default is none) a client that stalls its body holds
    // a connection forever. Node 20 reads it only at construction, hence also under `http`.
    // An upgraded live-feed socket is a finished request, so this does not cut it.
    requestTimeout: 10_000,
    http: { requestTimeout: 10_000, connectionsCheckingInterval: 2000 },
  });
  app.setErrorHandler(errorHandler(log));

  await app.register(websocket, { options: { maxPayload: 4096 } });
  await registerSecurityHeaders(app);
  await registerDocs(app);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
  });

  // The token guards the whole /api/v1 prefix, unknown routes included, so a caller without it
  // learns nothing about which routes exist. Both the raw path and the matched route pattern
  // count: the router decodes percent-escapes (/%61pi/v1/... reaches an /api/v1 route), while
  // unknown /api/v1 paths match no API route.
  const apiTokens = new ApiTokens(config.apiToken, config.apiReadTokens);
  const isApiPath = (path: string | undefined) => path !== undefined && (path === '/api/v1' || path.startsWith('/api/v1/'));
  app.addHook('onRequest', async (request) => {
    if (!isApiPath(request.routeOptions.url) && !isApiPath(request.url.split('?', 1)[0])) return;
    let token = bearerToken(request.headers.authorization);
    // Browsers cannot set headers on a WebSocket; only there may the token ride in the URL.
    if (token === undefined && request.routeOptions.url === LIVE_ROUTE) {
      const fromQuery = (request.query as Record<string, unknown>).token;
      if (typeof fromQuery === 'string') token = fromQuery;
    }
    const role = apiTokens.roleOf(token);
    if (role === undefined) throw new DashboardError('UNAUTHORIZED');
    // Read-only tokens (API_READ_TOKENS) may read everything, erase nothing.
    if (!mayAccess(role, request.method, request.routeOptions)) throw new DashboardError('FORBIDDEN');
  });

  let statsDb = deps.statsDb;
  if (!statsDb) {
    const pool = createStatsPool(config.databaseUrl, config.queryTimeoutMs, log);
    app.addHook('onClose', () => pool.end());
    statsDb = pool;
  }

  await app.register(
    async (api) => {
      await metricsRoutes(api, { db, now, erasure: deps.erasure });
      await pipelineRoutes(api, { db, thresholds: config.freshnessThresholds });
      await propertyRoutes(api, { db, now });
      await statsRoutes(api, { db: statsDb, now, timeoutMs: config.queryTimeoutMs });
      await liveRoute(api, {
        db,
        hub,
        now,
        allowedOrigins: config.allowedOrigins,
        maxClients: config.maxLiveClients,
        maxGapMs: config.liveMaxGapMs,
        gapFillLimit: config.liveGapFillLimit,
        onGapFill: (n) => metrics.gapFillWindows.inc(n),
        log,
      });
    },
    { prefix: '/api/v1' },
  );

  app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
    const database = await db.query('SELECT 1').then(
      () => true,
      () => false,
    );
    const kafka = consumer.healthy();
    const ok = database && kafka;
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', database, kafka, liveClients: hub.size });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  await staticRoutes(app, { webDir: config.webDir, demoDir: config.demoDir, collectorPublicUrl: config.collectorPublicUrl });
  return app;
}
