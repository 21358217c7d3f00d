import Fastify, { type FastifyInstance } from 'fastify';
import { EVENT_LIMITS, type InvalidEventRecord } from '@clickstream/shared';
import type { CollectorConfig } from './env.js';
import { CollectorError } from './errors.js';
import { enrichEvent } from './enrich.js';
import type { EventProducer } from './event-producer.js';
import { validateBody } from './validate.js';

export interface CollectorDeps {
  config: CollectorConfig;
  producer: Pick<EventProducer, 'sendEvents' | 'isConnected'>;
  now?: () => number;
}

export function buildCollectorApp({ config, producer, now = Date.now }: CollectorDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: EVENT_LIMITS.maxBodyBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });

  // sendBeacon posts text/plain; its body is the same JSON.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof CollectorError) {
      if (error.status === 503) reply.header('Retry-After', '2');
      return reply.status(error.status).send({ error: error.error, message: error.message });
    }
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({ error: 'body_too_large', message: 'the body is larger than 64 KiB' });
    }
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send({ error: 'unsupported_media_type', message: 'send application/json or text/plain' });
    }
    if (fastifyError.statusCode && fastifyError.statusCode < 500) {
      return reply.status(400).send({ error: 'invalid_json', message: fastifyError.message });
    }
    return reply.status(500).send({ error: 'internal', message: 'internal error' });
  });

  app.post('/v1/events', async (request, reply) => {
    const receivedAt = now();
    const { sentAt, accepted, rejected } = validateBody(request.body);
    const userAgent = request.headers['user-agent'];
    const events = accepted.map((event) => enrichEvent(event, { receivedAt, sentAt, userAgent }));
    const invalid: InvalidEventRecord[] = rejected.map((r) => ({
      receivedAt,
      reason: r.errors.join('; '),
      raw: r.raw,
    }));
    await producer.sendEvents(events, invalid);
    return reply.status(202).send({
      accepted: events.length,
      rejected: rejected.map(({ index, errors }) => ({ index, errors })),
    });
  });

  app.get('/healthz', async (_request, reply) => {
    const ok = producer.isConnected;
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', kafka: ok });
  });

  return app;
}
