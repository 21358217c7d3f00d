import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Queryable } from '../metrics-store.js';
import { ErrorSchema } from '../schemas.js';
import { DAY_MS, resolveRange } from '../time-range.js';

export interface PropertyRoutesDeps {
  db: Queryable;
  now: () => number;
}

const MAX_KEYS = 100;
const MAX_SPAN_MS = 3660 * DAY_MS;
const PREFIX = 'event:props:';

const PropertiesQuery = Type.Object({
  siteId: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: "The site's id." }),
  from: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Start of the range: ISO-8601 or ms (default: 15 minutes before `to`).' })),
  to: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'End of the range, exclusive: ISO-8601 or ms (default: now).' })),
});

const PropertiesReply = Type.Object({
  properties: Type.Array(Type.String(), {
    description: `Keys of custom event properties, sorted, at most ${MAX_KEYS}: each is a dimension \`event:props:<key>\` of POST /api/v1/query.`,
  }),
});

/**
 * The custom-event property keys a site sent on the (UTC) days a range touches, read from the day
 * rollup: what a dashboard offers to break custom events down by. A site has a few dimensions
 * (the total, page, name, one per property key), so a loose index scan walks them over the
 * `(site_id, dimension, bucket_start, …)` primary key, one descent each, and a second descent
 * checks each key has a row in the range: the cost follows the number of keys, not of rows.
 */
export async function propertyKeys(db: Queryable, q: { siteId: string; from: number; to: number }): Promise<string[]> {
  const dayStart = q.from - (((q.from % DAY_MS) + DAY_MS) % DAY_MS);
  const { rows } = await db.query<{ key: string }>(
    `WITH RECURSIVE dims AS (
       (SELECT dimension FROM site_stats_day WHERE site_id = $1 ORDER BY dimension LIMIT 1)
       UNION ALL
       SELECT (SELECT d.dimension FROM site_stats_day d WHERE d.site_id = $1 AND d.dimension > dims.dimension ORDER BY d.dimension LIMIT 1)
         FROM dims WHERE dims.dimension IS NOT NULL)
     SELECT substr(dimension, ${PREFIX.length + 1}) AS key
       FROM dims
      WHERE dimension IS NOT NULL AND starts_with(dimension, $2)
        AND EXISTS (SELECT 1 FROM site_stats_day d
                     WHERE d.site_id = $1 AND d.dimension = dims.dimension AND d.bucket_start >= $3 AND d.bucket_start < $4)
      ORDER BY key
      LIMIT ${MAX_KEYS}`,
    [q.siteId, PREFIX, new Date(dayStart), new Date(q.to)],
  );
  return rows.map((r) => r.key);
}

/** `GET /api/v1/properties`: which `event:props:<key>` dimensions a site has. */
export async function propertyRoutes(fastify: FastifyInstance, { db, now }: PropertyRoutesDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/properties',
    {
      schema: {
        tags: ['stats'],
        summary: 'Custom event property keys a site sent in a range',
        querystring: PropertiesQuery,
        security: [{ bearerAuth: [] }],
        response: { 200: PropertiesReply, 400: ErrorSchema, 401: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => {
      const { from, to } = resolveRange(request.query, now(), MAX_SPAN_MS);
      return { properties: await propertyKeys(db, { siteId: request.query.siteId, from, to }) };
    },
  );
}
