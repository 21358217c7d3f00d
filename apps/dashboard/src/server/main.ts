import pg from 'pg';
import { migrate, redact } from '@clickstream/db';
import { loadConfigOrExit } from '@clickstream/shared';
import { createLogger } from '@clickstream/shared/logger';
import { buildDashboardApp } from './app.js';
import { parseDashboardConfig } from './env.js';
import { KafkaMarkerSink, UserErasure } from './erasure.js';
import { LiveHub } from './live/live-hub.js';
import { MetricsConsumer } from './live/metrics-consumer.js';
import { createDashboardMetrics } from './metrics.js';
import { RollupFolder } from './timeline-rollup.js';

const logger = loadConfigOrExit(() => createLogger('dashboard'));
const warn = (message: string) => logger.warn(message);
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
pool.on('error', (error) => warn(`idle database connection failed: ${error.message}`));

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
  onDeleted: (marker) => {
    metrics.resultsConsumed.inc({ outcome: 'deleted' });
    hub.broadcastDeletion(marker);
  },
  onUndecodable: () => metrics.resultsConsumed.inc({ outcome: 'undecodable' }),
  log: warn,
});
consumer.start();
const folder = new RollupFolder(pool, config.rollupFoldIntervalMs, warn);
folder.start();
// Deletion markers of erasures: sent after each DELETE, and resent while any is pending.
const erasure = new UserErasure(pool, { sink: new KafkaMarkerSink(config.kafkaBrokers, config.topics), log: warn });
erasure.start();

const app = await buildDashboardApp({ config, db: pool, hub, consumer, metrics, logger, erasure });
await app.listen({ port: config.port, host: config.host });
logger.info(`listening on http://localhost:${config.port} (database ${redact(config.databaseUrl)}, topic ${config.topics.metrics})`);
if (config.apiTokenGenerated) {
  // A token never goes into a log line: the throw-away one is shown only to a person at a
  // terminal, outside the log stream.
  logger.warn('API_TOKEN is not set: a throw-away token was generated for this run; set API_TOKEN to choose one');
  if (process.stderr.isTTY) process.stderr.write(`\nthis run's API token: ${config.apiToken}\n\n`);
}

let stopping = false;
const SHUTDOWN_DEADLINE_MS = 5000;

async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // A browser that never answers the WebSocket close handshake must not keep us alive: the
  // drain is bounded, then the process exits anyway (nothing here holds unsaved state).
  setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS).unref();
  logger.info('stopping');
  await app.close();
  await erasure.stop();
  await consumer.stop();
  await folder.stop();
  await pool.end();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
