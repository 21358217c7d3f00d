import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { DashboardConfig } from './env.js';

export interface DashboardDeps {
  config: DashboardConfig;
  pool: pg.Pool;
}

function tokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function buildDashboardApp({ config, pool }: DashboardDeps): FastifyInstance {
  const app = Fastify({ logger: false });

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/v1')) return;
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!tokenMatches(config.apiToken, token)) {
      return reply.status(401).send({ error: 'unauthorized', message: 'send Authorization: Bearer <API_TOKEN>' });
    }
  });

  app.get<{ Params: { userId: string }; Querystring: { siteId?: string } }>('/api/v1/users/:userId/metrics', async (request) => {
    const { rows } = await pool.query(
      `SELECT site_id, user_id, window_start, window_end, events, page_views, clicks, custom_events,
              unique_pages, engaged_ms, sessions, revision
         FROM user_metrics WHERE user_id = $1 AND site_id = $2 ORDER BY window_start LIMIT 1000`,
      [request.params.userId, request.query.siteId ?? 'default'],
    );
    return {
      windows: rows.map((r) => ({
        siteId: r.site_id,
        userId: r.user_id,
        windowStart: r.window_start.toISOString(),
        windowEnd: r.window_end.toISOString(),
        events: r.events,
        pageViews: r.page_views,
        clicks: r.clicks,
        customEvents: r.custom_events,
        uniquePages: r.unique_pages,
        engagedMs: r.engaged_ms,
        sessions: r.sessions,
        revision: r.revision,
      })),
    };
  });

  app.get('/healthz', async (_request, reply) => {
    const database = await pool.query('SELECT 1').then(() => true, () => false);
    return reply.status(database ? 200 : 503).send({ status: database ? 'ok' : 'unavailable', database });
  });

  return app;
}
