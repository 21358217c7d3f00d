import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ErrorSchema } from '../schemas.js';
import {
  DATE_RANGE_NAMES,
  EVENT_DIMENSIONS,
  FILTER_OPERATORS,
  MAX_LIMIT,
  MAX_MINUTE_RANGE_DAYS,
  MAX_RANGE_DAYS,
  METRICS,
  QueryError,
  VISIT_COLUMNS,
  parseStatsQuery,
} from '../stats/query-parser.js';
import { planStatsQuery } from '../stats/query-planner.js';
import { isQueryTimeout, runStatsQuery, type StatsDb } from '../stats/query-runner.js';

export interface StatsRoutesDeps {
  db: StatsDb;
  now: () => number;
  /** QUERY_TIMEOUT_MS, for the 503 message. */
  timeoutMs: number;
}

const DIMENSIONS = [...Object.keys(VISIT_COLUMNS), ...EVENT_DIMENSIONS, 'event:props:<key>', 'time:minute', 'time:hour', 'time:day'];

const StatsQueryBody = Type.Object(
  {
    site_id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: "The site's id." }),
    metrics: Type.Array(Type.Union(METRICS.map((m) => Type.Literal(m))), { minItems: 1, description: 'In the order the answer lists them.' }),
    date_range: Type.Union(
      [
        Type.Union(DATE_RANGE_NAMES.map((n) => Type.Literal(n))),
        Type.Tuple([Type.String({ format: 'date' }), Type.String({ format: 'date' })]),
        Type.Tuple([Type.String({ format: 'date-time' }), Type.String({ format: 'date-time' })]),
      ],
      {
        description:
          '`day` (today), `7d` / `30d` (the last 7 / 30 days, today included), `month` (this calendar month), `realtime` (the last 5 minutes, ' +
          'the current one included), `["2024-01-01", "2024-01-31"]` (whole days, both included) or two date-times ' +
          '(`2024-01-01T10:00:00+05:30`; without an offset they are wall-clock times of `timezone`; from included, to excluded). ' +
          `Days follow \`timezone\`; bounds are floored to whole minutes; at most ${MAX_RANGE_DAYS} days.`,
      },
    ),
    timezone: Type.Optional(Type.String({ default: 'UTC', description: 'IANA time zone name (Europe/Berlin, Asia/Kolkata): days and time buckets follow it, DST included.' })),
    dimensions: Type.Optional(
      Type.Array(Type.String(), {
        description: `Group by any of ${DIMENSIONS.join(', ')}; at most one time dimension; time:minute over at most ${MAX_MINUTE_RANGE_DAYS} days.`,
      }),
    ),
    filters: Type.Optional(
      Type.Array(Type.Array(Type.Unknown()), {
        description:
          `\`[operator, dimension, [values...]]\`, operator ${FILTER_OPERATORS.join(', ')}, optionally followed by \`{"case_sensitive": false}\`. ` +
          'Filters on any non-time dimension; all of them must hold. A missing visit value (no UTM campaign, unknown country) reads as `(not set)`.',
      }),
    ),
    order_by: Type.Optional(
      Type.Array(Type.Tuple([Type.String(), Type.Union([Type.Literal('asc'), Type.Literal('desc')])]), {
        description: 'Metrics or dimensions of this query. Default: the time dimension ascending if there is one, then the first metric descending.',
      }),
    ),
    pagination: Type.Optional(
      Type.Object({
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: MAX_LIMIT })),
        offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
      }),
    ),
    include: Type.Optional(Type.Object({ total_rows: Type.Optional(Type.Boolean({ description: 'Adds `meta.total_rows`.' })), imports: Type.Optional(Type.Boolean()) })),
  },
  { additionalProperties: false },
);

const StatsQueryReply = Type.Object({
  results: Type.Array(
    Type.Object({
      dimensions: Type.Array(Type.String(), { description: 'Values of `dimensions`, in order; time:day as 2024-01-31, time:hour/minute as 2024-01-31 13:00:00 (wall clock of `timezone`).' }),
      metrics: Type.Array(Type.Number(), { description: 'Values of `metrics`, in order.' }),
    }),
  ),
  meta: Type.Object(
    {
      total_rows: Type.Optional(Type.Integer()),
      metric_warnings: Type.Optional(Type.Record(Type.String(), Type.Object({ code: Type.String(), warning: Type.String() }))),
    },
    { additionalProperties: true },
  ),
  query: Type.Object(
    {
      site_id: Type.String(),
      metrics: Type.Array(Type.String()),
      date_range: Type.Array(Type.String(), { description: 'The resolved range, ISO-8601 in `timezone`: from included, to excluded.' }),
      timezone: Type.String(),
      filters: Type.Array(Type.Unknown()),
      dimensions: Type.Array(Type.String()),
      order_by: Type.Array(Type.Array(Type.String())),
      include: Type.Optional(Type.Object({ total_rows: Type.Boolean() })),
      pagination: Type.Object({ limit: Type.Integer(), offset: Type.Integer() }),
    },
    { additionalProperties: true },
  ),
});

const DESCRIPTION = `Plausible's Stats API v2, on this platform's exact counts.

**Metrics.** \`visitors\`: distinct users with at least one counted page view, click or custom event in the range
(or bucket): exact, never a sum of buckets. \`visits\`: visits that start in the range or bucket. \`pageviews\`,
\`events\` (page views, clicks and custom events; engagement heartbeats are not events). \`views_per_visit\` (2 decimals),
\`bounce_rate\` (whole percent of visits with exactly one page view and no click or custom event), \`visit_duration\`
(mean seconds, whole) — over the visits that start in the range.

**Where numbers come from.** Grouped or filtered by a \`visit:\` dimension, every metric is read from the visits that start
in the range: \`visitors\` are their distinct users, \`pageviews\` their page views. Otherwise \`pageviews\` and \`events\` are
exact for every range (whole minutes), and \`visitors\` are exact for every range of whole quarter hours — every
\`day\`/\`7d\`/\`30d\`/\`month\`/date range in every time zone — and, without an event dimension, for any range. By an
event dimension over a range that does not start and end on a quarter hour (\`realtime\`, odd date-times), visitors
count over the quarter hours that overlap it, and \`meta.metric_warnings.visitors\` says so.

**Refused as 400 \`invalid_query\`** (the data cannot answer them exactly; the message names both fields):
an event dimension or filter (\`event:page\`, \`event:name\`, \`event:props:*\`) with a visit dimension or filter
("filter on visit:country cannot be combined with dimension event:page"); an event dimension or filter with \`visits\`,
\`bounce_rate\`, \`visit_duration\` or \`views_per_visit\` ("filter on event:page cannot be combined with metric bounce_rate");
two different event dimensions in dimensions and filters; \`events\` with a visit dimension or filter (a visit's event
count includes engagement heartbeats); \`visitors\` by \`time:minute\` with an event dimension or filter. Every malformed
field is a 400 naming it (unknown metric or dimension, bad date_range or timezone, filter operator, order_by on a name
not in the query, pagination.limit above ${MAX_LIMIT}, ...).

**Limits.** Queries run on a pool of their own (4 connections) and are cancelled after \`QUERY_TIMEOUT_MS\`
(default 10 s): \`503 {"error": "query_timeout"}\`. Any token may query (read-only tokens too).`;

/** `POST /api/v1/query`: the contract's stats query API. */
export async function statsRoutes(app: FastifyInstance, { db, now, timeoutMs }: StatsRoutesDeps): Promise<void> {
  app.post(
    '/query',
    {
      schema: {
        tags: ['stats'],
        summary: 'Site analytics: visitors, visits, page views, bounce rate, visit duration, events, by dimension and time',
        description: DESCRIPTION,
        body: StatsQueryBody,
        security: [{ bearerAuth: [] }],
        response: { 200: StatsQueryReply, 400: ErrorSchema, 401: ErrorSchema, 503: ErrorSchema },
      },
      // The body schema documents the request; parseStatsQuery checks it, with messages that
      // name the field (and without Ajv's type coercion).
      validatorCompiler: () => () => true,
      config: { access: 'read' },
    },
    async (request, reply) => {
      let answer;
      try {
        const query = parseStatsQuery(request.body, now());
        const plan = planStatsQuery(query);
        answer = { query, plan };
      } catch (error) {
        if (error instanceof QueryError) return reply.status(400).send({ error: 'invalid_query', message: error.message });
        throw error;
      }
      try {
        return await runStatsQuery(db, answer.query, answer.plan);
      } catch (error) {
        // A zone name this process knows but the database's time zone data does not (22023).
        if ((error as { code?: string }).code === '22023' && /time zone/i.test((error as Error).message)) {
          return reply.status(400).send({ error: 'invalid_query', message: `timezone: "${answer.query.timezone}" is not known to the database; use its canonical IANA name` });
        }
        if (!isQueryTimeout(error)) throw error;
        reply.header('retry-after', '5');
        return reply.status(503).send({
          error: 'query_timeout',
          message: `the query ran longer than QUERY_TIMEOUT_MS (${timeoutMs} ms) and was cancelled; try a shorter date_range or fewer dimensions`,
        });
      }
    },
  );
}
