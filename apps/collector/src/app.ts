import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { EVENT_LIMITS, type InvalidEventRecord } from '@clickstream/shared';
import { fastifyLogging } from '@clickstream/shared/fastify-logger';
import type { Logger } from '@clickstream/shared/logger';
import { bundledCountryLookup, type CountryLookup } from './country.js';
import { OriginPolicy } from './cors.js';
import type { CollectorConfig, TrustProxy } from './env.js';
import { CollectorError, COLLECTOR_ERRORS, type CollectorErrorCode } from './errors.js';
import { enrichedEventJson, requestSuffix } from './enrich.js';
import type { EventProducer } from './event-producer.js';
import { CollectorMetrics } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { parseJsonBody } from './json-body.js';
import { loadSnippetAsset, pickEncoding, type SnippetAsset } from './snippet-asset.js';
import { UserAgentCache } from './user-agent.js';
import { validateBody } from './validate.js';

export interface CollectorDeps {
  config: CollectorConfig;
  producer: Pick<EventProducer, 'send' | 'isConnected'>;
  metrics?: CollectorMetrics;
  now?: () => number;
  /** The snippet to serve; loaded (and built when missing) on first use otherwise. */
  snippet?: () => Promise<SnippetAsset>;
  /** Client address → country; the bundled data otherwise. */
  countries?: CountryLookup;
  /** The service's logger (createLogger); no logging without it. */
  logger?: Logger;
}

const EVENTS_ROUTE = '/v1/events';
const REQUEST_TIMEOUT_MS = 10_000;
// The URL is not versioned, so a day of freshness (and a week of stale-while-revalidate)
// is the long cache that still lets a fixed snippet reach every site within a day.
const SNIPPET_CACHE_CONTROL = 'public, max-age=86400, stale-while-revalidate=604800';

// Fastify's own error codes, mapped onto the collector's stable ones.
const FASTIFY_ERRORS: Record<string, CollectorErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_BODY',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
};

function send(reply: FastifyReply, error: CollectorError): FastifyReply {
  if (error.retryAfterSec !== undefined) reply.header('Retry-After', String(error.retryAfterSec));
  return reply.status(error.status).send({ error: error.error, message: error.message, ...error.extra });
}

/**
 * JSON.parse accepts nesting that JSON.stringify, deeper in the request's stack, cannot write back
 * (RangeError: a 500 for a 4,000-level body); such a raw value is kept as a marker instead.
 */
function invalidRecordJson(record: InvalidEventRecord): string {
  try {
    return JSON.stringify(record);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return JSON.stringify({ ...record, raw: '[nested too deeply to store]' });
  }
}

/** TRUST_PROXY as Fastify takes it (its types have no hop count: a count is "trust the nearest n"). */
function fastifyTrustProxy(setting: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return typeof setting === 'boolean' ? setting : [...setting];
}

export function buildCollectorApp({
  config,
  producer,
  metrics = new CollectorMetrics(),
  now = Date.now,
  snippet = loadSnippetAsset,
  countries = bundledCountryLookup(),
  logger,
}: CollectorDeps): FastifyInstance {
  const app = Fastify({
    // A line per request only at debug: at info, thousands of event posts a second would bury
    // everything else (and cost CPU); /metrics counts them.
    ...(logger ? fastifyLogging(logger, { requestLevel: 'debug' }) : { logger: false }),
    bodyLimit: EVENT_LIMITS.maxBodyBytes,
    trustProxy: fastifyTrustProxy(config.trustProxy),
    // Fastify's default (0) lets a client that sends headers and then trickles or stalls its body
    // hold a connection forever; 64 KiB arrives well within this. Node 20 reads the timeout only
    // when the server is constructed, hence also under `http`; it checks every 2 s (else 30 s).
    requestTimeout: REQUEST_TIMEOUT_MS,
    http: { requestTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 2000 },
  });
  const origins = new OriginPolicy(config.allowedOrigins);
  const limiter = new RateLimiter(config.rateLimitPerMin, now);
  const userAgents = new UserAgentCache();

  // sendBeacon posts text/plain; its body is the same JSON, parsed with the same guards.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof CollectorError) return send(reply, error);
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    const mapped = fastifyError.code ? FASTIFY_ERRORS[fastifyError.code] : undefined;
    if (mapped) return send(reply, new CollectorError(mapped));
    if (fastifyError.statusCode && fastifyError.statusCode < 500) return send(reply, new CollectorError('INVALID_JSON', fastifyError.message));
    request.log.error({ req: request, err: error }, 'internal error');
    return send(reply, new CollectorError('INTERNAL'));
  });
  app.setNotFoundHandler((_request, reply) => send(reply, new CollectorError('NOT_FOUND')));

  app.addHook('onResponse', (request, reply, done) => {
    metrics.countRequest(request.routeOptions.url ?? 'unmatched', reply.statusCode);
    done();
  });

  function corsHeaders(request: FastifyRequest, reply: FastifyReply): void {
    const origin = request.headers.origin;
    const allow = origins.allowOrigin(origin);
    if (allow) reply.header('Access-Control-Allow-Origin', allow);
    if (origins.variesByOrigin) reply.header('Vary', 'Origin');
    if (!origins.admits(origin)) throw new CollectorError('ORIGIN_NOT_ALLOWED', origin);
  }

  app.options(EVENTS_ROUTE, async (request, reply) => {
    corsHeaders(request, reply);
    return reply
      .status(204)
      .header('Access-Control-Allow-Methods', 'POST, OPTIONS')
      .header('Access-Control-Allow-Headers', 'Content-Type')
      .header('Access-Control-Max-Age', '86400')
      .send();
  });

  app.post(EVENTS_ROUTE, {
    // Refuse before the body is read: origin and rate checks need only the headers.
    onRequest: async (request, reply) => {
      corsHeaders(request, reply);
      const decision = limiter.take(request.ip);
      if (!decision.allowed) throw new CollectorError('RATE_LIMITED', undefined, decision.retryAfterSec);
    },
    handler: async (request, reply) => {
      const receivedAt = now();
      const { sentAt, single, accepted, rejected } = validateBody(request.body);
      // request.ip follows TRUST_PROXY; only the country leaves this line.
      const facts = { receivedAt, sentAt, userAgent: userAgents.get(request.headers['user-agent']), country: countries.country(request.ip) };
      const suffix = requestSuffix(facts);
      const clicks = accepted.map((event) => ({ key: event.userId, value: enrichedEventJson(event, facts, suffix) }));
      const invalid = rejected.map((r) => {
        const record: InvalidEventRecord = { receivedAt, reason: r.errors.join('; '), raw: r.raw };
        return { value: invalidRecordJson(record) };
      });
      try {
        await producer.send({ clicks, invalid });
      } catch (error) {
        metrics.eventsRefused.inc(clicks.length);
        throw error;
      }
      metrics.eventsAccepted.inc(clicks.length);
      metrics.eventsRejected.inc(rejected.length);
      const rejections = rejected.map(({ index, errors }) => ({ index, errors }));
      // A lone body that is not a valid event is a bad request; in a batch, bad events are reported per index.
      if (single && rejected.length > 0) {
        throw new CollectorError('INVALID_EVENT', rejected[0]!.errors[0], undefined, { rejected: rejections });
      }
      return reply.status(202).send({ accepted: clicks.length, rejected: rejections });
    },
  });

  app.get('/snippet.js', async (request, reply) => {
    const asset = await snippet();
    reply
      .header('Content-Type', 'application/javascript; charset=utf-8')
      .header('Cache-Control', SNIPPET_CACHE_CONTROL)
      .header('ETag', asset.etag)
      .header('Vary', 'Accept-Encoding')
      // Sites that isolate themselves (COEP) may still load it.
      .header('Cross-Origin-Resource-Policy', 'cross-origin');
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === asset.etag)) {
      return reply.status(304).send();
    }
    const encoding = pickEncoding(request.headers['accept-encoding']);
    if (encoding) reply.header('Content-Encoding', encoding);
    return reply.send(encoding === 'br' ? asset.brotli : encoding === 'gzip' ? asset.gzip : asset.identity);
  });

  app.get('/healthz', async (_request, reply) => {
    const ok = producer.isConnected;
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', kafka: ok });
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.header('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  return app;
}

export { COLLECTOR_ERRORS };
