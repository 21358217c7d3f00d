import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { WebSocket } from 'ws';
import { originAllowed } from '../auth.js';
import { DashboardError } from '../errors.js';
import { windowsSince, type Queryable } from '../metrics-store.js';
import { LiveQuery } from '../schemas.js';
import { parseTime } from '../time-range.js';
import { windowFrame, type LiveHub } from '../live/live-hub.js';

export interface LiveRouteDeps {
  db: Queryable;
  hub: LiveHub;
  now: () => number;
  allowedOrigins: readonly string[];
  maxClients: number;
  maxGapMs: number;
  gapFillLimit: number;
  onGapFill?: (windows: number) => void;
  log?: (message: string) => void;
}

const PING_INTERVAL_MS = 30_000;
/** Gap-fill frames go out in slices; each waits until the previous one reached the socket. */
const GAP_FILL_SLICE = 200;

/**
 * `GET /api/v1/live`: the WebSocket feed. The token is checked by the /api/v1 auth hook; here the
 * Origin, the client limit and `since` are checked before the upgrade, so a refused client gets a
 * plain HTTP answer (403/503/400).
 */
export async function liveRoute(fastify: FastifyInstance, deps: LiveRouteDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const alive = new WeakMap<WebSocket, boolean>();
  const sockets = new Set<WebSocket>();

  // Half-open connections (a laptop that went to sleep) would otherwise stay in the hub forever.
  const pinger = setInterval(() => {
    for (const socket of sockets) {
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();
  fastify.addHook('onClose', async () => clearInterval(pinger));

  app.route({
    method: 'GET',
    url: '/live',
    schema: { querystring: LiveQuery, hide: true },
    preHandler: async (request: FastifyRequest) => {
      if (!originAllowed(request.headers.origin, request.headers.host, deps.allowedOrigins)) {
        throw new DashboardError('FORBIDDEN_ORIGIN', `Origin ${String(request.headers.origin).slice(0, 200)} may not open the live feed`);
      }
      const { since } = request.query as { since?: string };
      if (since !== undefined) parseTime('since', since);
      if (deps.hub.size >= deps.maxClients) throw new DashboardError('TOO_MANY_CLIENTS');
    },
    handler: async (_request, reply) => {
      reply.header('upgrade', 'websocket');
      throw new DashboardError('UPGRADE_REQUIRED');
    },
    wsHandler: async (socket, request) => {
      const { siteId, since } = request.query;
      const client = deps.hub.add(socket, siteId, { hold: since !== undefined });
      sockets.add(socket);
      alive.set(socket, true);
      socket.on('pong', () => alive.set(socket, true));
      socket.on('close', () => {
        deps.hub.remove(client);
        sockets.delete(socket);
      });
      // The feed is one-way; anything a client sends is ignored.
      socket.on('message', () => {});
      if (since === undefined) return;

      // Windows written while the client was away; a reconnecting dashboard shows no hole.
      // Older gaps than maxGapMs are cut: such a client reloads history over REST.
      const from = Math.max(parseTime('since', since), deps.now() - deps.maxGapMs);
      try {
        const windows = await windowsSince(deps.db, { since: from, siteId, limit: deps.gapFillLimit });
        deps.onGapFill?.(windows.length);
        for (let i = 0; i < windows.length && socket.readyState === socket.OPEN; i += GAP_FILL_SLICE) {
          const slice = windows.slice(i, i + GAP_FILL_SLICE);
          await new Promise<void>((resolve) => {
            slice.forEach((w, j) => socket.send(windowFrame(w), j === slice.length - 1 ? () => resolve() : undefined));
          });
        }
        deps.hub.release(client);
      } catch (error) {
        deps.log?.(`live gap fill failed: ${(error as Error).message}`);
        // 1011: the client reconnects with the same `since` and gets another try.
        socket.close(1011, 'gap fill failed; reconnect');
      }
    },
  });
}
