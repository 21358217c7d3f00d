import { readBrokers, readInt, readList, readPort, readString, readTopicPrefix, topicNames, type TopicNames } from '@clickstream/shared';

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
}

export function parseCollectorConfig(env: Record<string, string | undefined> = process.env): CollectorConfig {
  return Object.freeze({
    port: readPort(env, 'COLLECTOR_PORT', 8080),
    host: readString(env, 'COLLECTOR_HOST', '0.0.0.0'),
    kafkaBrokers: Object.freeze(readBrokers(env)),
    topics: topicNames(readTopicPrefix(env)),
    allowedOrigins: Object.freeze(readList(env, 'ALLOWED_ORIGINS', ['*'])),
    rateLimitPerMin: readInt(env, 'RATE_LIMIT_PER_MIN', 600, { min: 1 }),
    produceTimeoutMs: readInt(env, 'PRODUCE_TIMEOUT_MS', 5000, { min: 100, max: 60_000 }),
  });
}
