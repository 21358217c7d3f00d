import { ConfigError, loadConfigOrExit } from '@clickstream/shared';
import { createLogger } from '@clickstream/shared/logger';
import { buildCollectorApp } from './app.js';
import { bundledCountryLookup, CountryLookup } from './country.js';
import { parseCollectorConfig } from './env.js';
import { EventProducer } from './event-producer.js';
import { CollectorMetrics } from './metrics.js';
import { loadSnippetAsset } from './snippet-asset.js';

const logger = loadConfigOrExit(() => createLogger('collector'));
const config = loadConfigOrExit(() => parseCollectorConfig());
const countries = loadConfigOrExit(() => {
  if (config.countryDb === undefined) return bundledCountryLookup();
  try {
    return CountryLookup.open(config.countryDb);
  } catch (error) {
    throw new ConfigError('COUNTRY_DB', `cannot read a country MMDB file at ${config.countryDb}: ${(error as Error).message}`);
  }
});
const metrics = new CollectorMetrics({ processMetrics: true });
// Built here when dist/ is missing (fresh clone), so a broken snippet stops the start, not a page.
const snippet = await loadSnippetAsset();
const producer = new EventProducer({
  brokers: config.kafkaBrokers,
  topics: config.topics,
  produceTimeoutMs: config.produceTimeoutMs,
  lingerMs: config.produceLingerMs,
  maxBatchEvents: config.produceMaxBatchEvents,
  concurrency: config.produceConcurrency,
  compression: config.produceCompression,
  metrics,
  logger,
});
// Listen even while Kafka is down: requests get 503 + Retry-After and /healthz says why,
// until the producer connects by itself.
producer.connectInBackground();
const app = buildCollectorApp({ config, producer, metrics, snippet: async () => snippet, countries, logger });
const address = await app.listen({ port: config.port, host: config.host });
logger.info(`listening on ${address} (Kafka ${config.kafkaBrokers.join(',')}; country data of ${countries.builtAt.toISOString().slice(0, 10)})`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: draining`);
  // Stop taking requests and wait for the in-flight ones, whose produces finish first; then
  // flush whatever the producer still holds and leave Kafka.
  // Keep-alive connections whose request finishes during the drain would otherwise stay open
  // until their keep-alive timeout and hold up the exit.
  const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
  await app.close();
  clearInterval(reaper);
  await producer.disconnect();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
