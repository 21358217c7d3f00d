import { migrate } from '@clickstream/db';
import { loadConfigOrExit } from '@clickstream/shared';
import { createLogger, logTo } from '@clickstream/shared/logger';
import { parseProcessorConfig } from './env.js';
import { startHealthServer } from './health-server.js';
import { createProcessorMetrics } from './metrics.js';
import { Processor } from './runtime/processor.js';
import { enforceRawRetention } from './raw-retention.js';
import { startPartitionMaintenance } from './partition-maintenance.js';

const logger = loadConfigOrExit(() => createLogger('processor'));
const config = loadConfigOrExit(() => parseProcessorConfig());
await migrate(config.databaseUrl);
const metrics = createProcessorMetrics();
const processor = new Processor(config, { metrics, log: logTo(logger, 'info'), kafkaLog: (line) => logger.warn(line) });
const server = await startHealthServer(processor, metrics, config.metricsPort);
await enforceRawRetention(config, logger);
// Partitions ahead, and none past RETENTION_DAYS: now, then every hour, in the background.
const partitions = startPartitionMaintenance(config, logger);
await processor.start();
logger.info(`processor consuming ${config.topics.clicks} as group ${config.consumerGroup}; metrics on :${config.metricsPort}`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Leaving without the final checkpoint is safe (the next owner resumes from the last one), so
  // a drain that cannot finish is cut short rather than left hanging.
  setTimeout(() => process.exit(1), 30_000).unref();
  await Promise.all([processor.stop(), partitions.stop()]);
  server.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
