import { createServer, type Server } from 'node:http';
import type { Processor } from './runtime/processor.js';
import type { ProcessorMetrics } from './metrics.js';

/** `/healthz` and `/metrics` of the contract on PROCESSOR_METRICS_PORT. */
export function startHealthServer(processor: Processor, metrics: ProcessorMetrics, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    void (async () => {
      try {
        if (request.method === 'GET' && request.url === '/healthz') {
          const health = await processor.healthy();
          response.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ status: health.ok ? 'ok' : 'unavailable', ...health, partitions: processor.ownedPartitions }));
          return;
        }
        if (request.method === 'GET' && request.url === '/metrics') {
          const lag = await processor.consumerLag().catch(() => ({}) as Record<number, number>);
          for (const [partition, value] of Object.entries(lag)) metrics.consumerLag.set({ partition }, value);
          const freshness = await processor.currentFreshness();
          if (freshness.checkpointAgeMs !== null) metrics.checkpointAge.set(freshness.checkpointAgeMs / 1000);
          response.writeHead(200, { 'content-type': metrics.registry.contentType });
          response.end(await metrics.registry.metrics());
          return;
        }
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'not_found', message: 'only /healthz and /metrics are served here' }));
      } catch (error) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'internal', message: (error as Error).message }));
      }
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
