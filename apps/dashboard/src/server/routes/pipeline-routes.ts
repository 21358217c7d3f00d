import type { FastifyInstance } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import type { Queryable } from '../metrics-store.js';
import { readPipeline, STALE_AFTER_MS, type FreshnessThresholds } from '../pipeline-store.js';
import { ErrorSchema } from '../schemas.js';

export interface PipelineRoutesDeps {
  db: Queryable;
  thresholds: FreshnessThresholds;
}

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Ms = (description: string) => Nullable(Type.Number({ description: `${description} null when not measured yet.` }));
const Threshold = (unit: string) =>
  Type.Object({ amber: Type.Number({ description: `Amber from this many ${unit} up.` }), red: Type.Number({ description: `Red from this many ${unit} up.` }) });

const figures = {
  eventToVisibleMs: Type.Object(
    { p50: Ms('Median, ms.'), p99: Ms('99th percentile, ms.') },
    { description: 'From the collector receiving the newest event of a result to the checkpoint that made it readable, over the last minute.' },
  ),
  watermarkLagMs: Ms('Wall clock minus the lowest partition watermark, ms.'),
  consumerLag: Nullable(Type.Number({ description: 'Records of `website-clicks` not yet read.' })),
  checkpointAgeMs: Ms('Time since the last committed checkpoint, ms.'),
  eventsInPerSec: Nullable(Type.Number({ description: 'Events counted per second, mean over the last minute.' })),
  resultsOutPerSec: Nullable(Type.Number({ description: 'Window and visit results made visible per second, mean over the last minute.' })),
};

export const PipelineReply = Type.Object({
  staleAfterMs: Type.Integer({ description: 'An instance that has not reported for longer is listed as stale and left out of the total.' }),
  thresholds: Type.Object(
    {
      eventToVisibleMs: Threshold('ms (p50 and p99)'),
      watermarkLagMs: Threshold('ms'),
      consumerLag: Threshold('records'),
      checkpointAgeMs: Threshold('ms'),
    },
    { description: 'FRESHNESS_* settings: a figure at or above `amber` is amber, at or above `red` red.' },
  ),
  total: Type.Object(
    {
      instances: Type.Integer({ description: 'Live (not stale) instances.' }),
      level: Type.Union([Type.Literal('ok'), Type.Literal('amber'), Type.Literal('red')], {
        description: 'The worst level of the total figures; red when no instance is live.',
      }),
      ...figures,
    },
    {
      description:
        'Over the live instances: latency p50 and p99 are the maxima of the instances\' (an upper bound: percentiles of different instances cannot be merged), ' +
        'watermark lag and checkpoint age the maxima, consumer lag and rates the sums.',
    },
  ),
  instances: Type.Array(
    Type.Object({
      instanceId: Type.String(),
      consumerGroup: Type.String(),
      partitions: Type.Array(Type.Integer(), { description: 'Partitions of `website-clicks` it owns.' }),
      samples: Type.Integer({ description: 'Latency samples in the last minute.' }),
      updatedAt: Type.String({ format: 'date-time' }),
      ageMs: Type.Integer({ description: 'Since the instance last reported (every 2 s while it runs).' }),
      stale: Type.Boolean(),
      ...figures,
    }),
    { description: 'Live instances first, then stale ones (reported within the last 10 minutes), by id.' },
  ),
  lastReconcile: Nullable(
    Type.Object(
      {
        id: Type.String(),
        siteId: Type.String(),
        from: Type.String({ format: 'date-time' }),
        to: Type.String({ format: 'date-time' }),
        startedAt: Type.String({ format: 'date-time' }),
        finishedAt: Nullable(Type.String({ format: 'date-time' })),
        ok: Nullable(Type.Boolean({ description: 'true: everything matched; false: differences; null: still running.' })),
        summary: Type.Unknown({ description: 'What `pnpm reconcile` counted: matching, different, missing, extra.' }),
      },
      { description: 'The newest exactness audit (`pnpm reconcile`); null when none was run.' },
    ),
  ),
});

/** `GET /api/v1/pipeline`: the contract's "Pipeline freshness". */
export async function pipelineRoutes(app: FastifyInstance, { db, thresholds }: PipelineRoutesDeps): Promise<void> {
  app.get(
    '/pipeline',
    {
      schema: {
        tags: ['pipeline'],
        summary: 'Freshness of the pipeline per processor instance and in total, and the last exactness audit',
        description:
          'Read from what each processor publishes every 2 s: event-to-visible latency (p50, p99 over the last minute), ' +
          `watermark lag, consumer lag, checkpoint age, events in and results out per second. Instances silent for more than ${STALE_AFTER_MS / 1000} s ` +
          'are listed as stale and left out of the total. `thresholds` (settings FRESHNESS_LATENCY_MS, FRESHNESS_WATERMARK_LAG_MS, ' +
          'FRESHNESS_CONSUMER_LAG, FRESHNESS_CHECKPOINT_AGE_MS) say when a figure is amber or red, so every client colours alike.',
        security: [{ bearerAuth: [] }],
        response: { 200: PipelineReply, 401: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return readPipeline(db, thresholds);
    },
  );
}
