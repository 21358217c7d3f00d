import { ConfigError, readBoolean, readBrokers, readInt, readList, readPort, readString, readTopicPrefix, topicNames, type TopicNames } from '@clickstream/shared';

export interface CollectorConfig {
  readonly port: number;
  readonly host: string;
  readonly kafkaBrokers: readonly string[];
  readonly topics: TopicNames;
  /** `*` allows any origin: the collector is public by design. */
  readonly allowedOrigins: readonly string[];
  readonly rateLimitPerMin: number;
  /** How long a request may wait for Kafka before it is answered 503. */
  readonly produceTimeoutMs: number;
  /** How long a produce batch waits for company when the producer is idle. */
  readonly produceLingerMs: number;
  /** Upper bound of events (valid + invalid) in one produce request. */
  readonly produceMaxBatchEvents: number;
  /** Idempotent producers used side by side (kafkajs allows one call in flight per producer). */
  readonly produceConcurrency: number;
  /** Compression of produce batches: gzip (default; every kafkajs consumer reads it) or none. */
  readonly produceCompression: 'gzip' | 'none';
  /** Read the client address from X-Forwarded-For (only behind a proxy you run). */
  readonly trustProxy: boolean;
}

export function parseCollectorConfig(env: Record<string, string | undefined> = process.env): CollectorConfig {
  return Object.freeze({
    port: readPort(env, 'COLLECTOR_PORT', 8080),
    host: readString(env, 'COLLECTOR_HOST', '0.0.0.0'),
    kafkaBrokers: Object.freeze(readBrokers(env)),
    topics: topicNames(readTopicPrefix(env)),
    allowedOrigins: Object.freeze(readOrigins(env)),
    rateLimitPerMin: readInt(env, 'RATE_LIMIT_PER_MIN', 600, { min: 1 }),
    produceTimeoutMs: readInt(env, 'PRODUCE_TIMEOUT_MS', 3000, { min: 100, max: 60_000 }),
    produceLingerMs: readInt(env, 'PRODUCE_LINGER_MS', 2, { min: 0, max: 1000 }),
    produceMaxBatchEvents: readInt(env, 'PRODUCE_MAX_BATCH_EVENTS', 5000, { min: 1, max: 100_000 }),
    produceConcurrency: readInt(env, 'PRODUCE_CONCURRENCY', 3, { min: 1, max: 16 }),
    produceCompression: readCompression(env),
    trustProxy: readBoolean(env, 'TRUST_PROXY', false),
  });
}

function readOrigins(env: Record<string, string | undefined>): string[] {
  const origins = readList(env, 'ALLOWED_ORIGINS', ['*']);
  for (const origin of origins) {
    if (origin === '*') continue;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError('ALLOWED_ORIGINS', `"${origin}" is not an origin like https://shop.example`);
    }
    if (parsed.origin !== origin) throw new ConfigError('ALLOWED_ORIGINS', `"${origin}" is not an origin like https://shop.example (no path or trailing slash)`);
  }
  return origins;
}

function readCompression(env: Record<string, string | undefined>): 'gzip' | 'none' {
  const raw = readString(env, 'PRODUCE_COMPRESSION', 'gzip').toLowerCase();
  if (raw !== 'gzip' && raw !== 'none') throw new ConfigError('PRODUCE_COMPRESSION', `"${raw}" is not gzip or none`);
  return raw;
}
