import { loadConfigOrExit } from '@clickstream/shared';
import { buildCollectorApp } from './app.js';
import { parseCollectorConfig } from './env.js';
import { EventProducer } from './event-producer.js';

const config = loadConfigOrExit(() => parseCollectorConfig());
const producer = new EventProducer({ brokers: config.kafkaBrokers, topics: config.topics, produceTimeoutMs: config.produceTimeoutMs });
await producer.connect();
const app = buildCollectorApp({ config, producer });
await app.listen({ port: config.port, host: config.host });
process.stdout.write(`collector listening on http://localhost:${config.port}\n`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Stop taking requests, let in-flight produces finish, then leave Kafka.
  await app.close();
  await producer.disconnect();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
