/**
 * The baseline of the collector benchmark: a bare Fastify route that parses the same JSON body
 * and answers like the collector, doing nothing else.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
app.addContentTypeParser('text/plain', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
app.post('/v1/events', async (request, reply) => {
  const body = request.body as { events?: unknown[] };
  return reply.status(202).send({ accepted: Array.isArray(body.events) ? body.events.length : 1, rejected: [] });
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`listening on ${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
