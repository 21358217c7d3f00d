import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { WINDOW_SIZE_MS, windowStartOf } from '@clickstream/shared';
import type { UserErasure } from '../erasure.js';
import { DashboardError } from '../errors.js';
import { listSites, timeline, topUsers, userExists, userWindows, type Queryable, type TimelinePoint } from '../metrics-store.js';
import {
  DeleteUserQuery,
  DeleteUserReply,
  ErrorSchema,
  SitesReply,
  TimelineQuery,
  TimelineReply,
  TopUsersQuery,
  TopUsersReply,
  UserMetricsQuery,
  UserMetricsReply,
  UserParams,
} from '../schemas.js';
import { DAY_MS, resolveRange } from '../time-range.js';

export interface MetricsRoutesDeps {
  db: Queryable;
  now: () => number;
  erasure: Pick<UserErasure, 'erase'>;
}

const DEFAULT_SITE = 'default';
/** Per-window timelines stay at most a day (17,280 points); sums per user may span a month. */
const MAX_TIMELINE_SPAN_MS = DAY_MS;
const MAX_SPAN_MS = 31 * DAY_MS;

const errors = { 400: ErrorSchema, 401: ErrorSchema, 503: ErrorSchema };
const security = [{ bearerAuth: [] }];

/** The REST half of the contract's Query API, under /api/v1. */
export async function metricsRoutes(fastify: FastifyInstance, { db, now, erasure }: MetricsRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/users/:userId/metrics',
    {
      schema: {
        tags: ['metrics'],
        summary: "A user's 5-second windows, oldest first",
        params: UserParams,
        querystring: UserMetricsQuery,
        security,
        description:
          'A user with no stored window on the site answers `404 unknown_user`; a known user with nothing in the range gets `{"windows": []}`.',
        response: { 200: UserMetricsReply, ...errors, 404: ErrorSchema },
      },
    },
    async (request) => {
      const { userId } = request.params;
      const siteId = request.query.siteId ?? DEFAULT_SITE;
      const { from, to } = resolveRange(request.query, now(), MAX_SPAN_MS);
      const windows = await userWindows(db, { siteId, userId, from, to, limit: request.query.limit });
      if (windows.length === 0 && !(await userExists(db, siteId, userId))) {
        throw new DashboardError('UNKNOWN_USER', `no metrics are stored for user "${userId.slice(0, 128)}" on site "${siteId}"`);
      }
      return { windows };
    },
  );

  app.get(
    '/sites',
    {
      schema: {
        tags: ['metrics'],
        summary: 'The sites that have stored windows, by id, each with the end of its newest window',
        security,
        response: { 200: SitesReply, 401: ErrorSchema, 503: ErrorSchema },
      },
    },
    async () => ({ sites: await listSites(db) }),
  );

  app.get(
    '/metrics/timeline',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Site totals per 5-second window: active users, events, page views, clicks, engaged time',
        querystring: TimelineQuery,
        security,
        response: { 200: TimelineReply, ...errors },
      },
    },
    async (request) => {
      const siteId = request.query.siteId ?? DEFAULT_SITE;
      const { from, to } = resolveRange(request.query, now(), MAX_TIMELINE_SPAN_MS);
      const points = await timeline(db, { siteId, from, to });
      return { windows: denseTimeline(points, from, to) };
    },
  );

  app.get(
    '/metrics/top-users',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Users with the most events, clicks or engaged time in the range',
        querystring: TopUsersQuery,
        security,
        response: { 200: TopUsersReply, ...errors },
      },
    },
    async (request) => {
      const siteId = request.query.siteId ?? DEFAULT_SITE;
      const { from, to } = resolveRange(request.query, now(), MAX_SPAN_MS);
      return { users: await topUsers(db, { siteId, from, to, by: request.query.by, limit: request.query.limit }) };
    },
  );

  app.delete(
    '/users/:userId',
    {
      schema: {
        tags: ['privacy'],
        summary: "Erase a user's windows and visits (GDPR); idempotent",
        description:
          "Removes the user's per-user rows (5-second windows and visits) and answers `{\"deleted\": n}`, n = windows + visits " +
          'removed, as soon as PostgreSQL has committed the erasure; events of the user up to now that arrive later are ' +
          'dropped. Deletion markers for each removed row then go to `user-metrics` and `user-sessions` in the background ' +
          "(after the processor's earlier results for the user, retried until sent). Site aggregates keep their counts. " +
          'Without `siteId` the user is erased on every site. Erasing a user with nothing stored answers `{"deleted": 0}`. ' +
          'Needs `API_TOKEN`: a read-only token (`API_READ_TOKENS`) gets `403 forbidden`.',
        params: UserParams,
        querystring: DeleteUserQuery,
        security,
        response: { 200: DeleteUserReply, ...errors, 403: ErrorSchema },
      },
      config: { access: 'admin' },
    },
    async (request) => ({ deleted: await erasure.erase(request.params.userId, request.query.siteId) }),
  );
}

/** Every window overlapping [from, to), with zeros where nothing was stored, so charts show no holes. */
export function denseTimeline(points: ReadonlyMap<number, TimelinePoint>, from: number, to: number): TimelinePoint[] {
  const out: TimelinePoint[] = [];
  for (let start = windowStartOf(from); start < to; start += WINDOW_SIZE_MS) {
    out.push(
      points.get(start) ?? { windowStart: new Date(start).toISOString(), activeUsers: 0, events: 0, pageViews: 0, clicks: 0, engagedMs: 0 },
    );
  }
  return out;
}
