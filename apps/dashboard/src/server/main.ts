import pg from 'pg';
import { migrate, redact } from '@clickstream/db';
import { loadConfigOrExit } from '@clickstream/shared';
import { buildDashboardApp } from './app.js';
import { parseDashboardConfig } from './env.js';
import { LiveHub } from './live/live-hub.js';
import { MetricsConsumer } from './live/metrics-consumer.js';
import { createDashboardMetrics } from './metrics.js';
import { RollupFolder } from './timeline-rollup.js';

const log = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);
const config = loadConfigOrExit(() => parseDashboardConfig());

await migrate(config.databaseUrl);
const pool = new pg.Pool({
  connectionString: config.databaseUrl,
  max: 10,
  application_name: 'clickstream-dashboard',
  connectionTimeoutMillis: 5000,
  // No API query may hold a connection for long; a slow one answers 503 instead.
  statement_timeout: 15_000,
});
pool.on('error', (error) => log(`idle database connection failed: ${error.message}`));

// The gauge reads the hub only when scraped, after both exist.
const metrics = createDashboardMetrics(() => hub.size);
const hub = new LiveHub(config.liveMaxBufferedBytes, {
  onFrame: (delivered, dropped) => {
    metrics.liveFrames.inc({ outcome: 'delivered' }, delivered);
    metrics.liveFrames.inc({ outcome: 'dropped' }, dropped);
  },
});
const consumer = new MetricsConsumer({
  brokers: config.kafkaBrokers,
  topic: config.topics.metrics,
  onResult: (result) => {
    metrics.resultsConsumed.inc({ outcome: 'fanned_out' });
    hub.broadcast(result);
  },
  onUndecodable: () => metrics.resultsConsumed.inc({ outcome: 'undecodable' }),
  log,
});
consumer.start();
const folder = new RollupFolder(pool, config.rollupFoldIntervalMs, log);
folder.start();

const app = await buildDashboardApp({ config, db: pool, hub, consumer, metrics, log });
await app.listen({ port: config.port, host: config.host });
process.stdout.write(`dashboard listening on http://localhost:${config.port} (database ${redact(config.databaseUrl)}, topic ${config.topics.metrics})\n`);
if (config.apiTokenGenerated) {
  process.stdout.write(`API_TOKEN was not set; this run's token is ${config.apiToken}\n`);
}

let stopping = false;
const SHUTDOWN_DEADLINE_MS = 5000;

async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // A browser that never answers the WebSocket close handshake must not keep us alive: the
  // drain is bounded, then the process exits anyway (nothing here holds unsaved state).
  setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS).unref();
  await app.close();
  await consumer.stop();
  await folder.stop();
  await pool.end();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
