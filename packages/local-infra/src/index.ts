export { KafkaBroker, ensureKafkaJars, kafkaLibsDir, KAFKA_VERSION, type KafkaBrokerOptions } from './kafka-broker.js';
export { ensurePostgres, serverUrlOf, type PostgresHandle } from './postgres.js';
export { ensureTopics } from './topics.js';
export { isPortOpen, freePort, waitFor } from './ports.js';
export { repoRoot, localDataDir } from './paths.js';
export { serviceCommand, type ServiceCommand } from './service-command.js';
export { ensureChromium, CHROMIUM_PATH, CHROMIUM_ARGS } from './chromium.js';
export { startEphemeralInfra, type EphemeralInfra } from './ephemeral.js';
