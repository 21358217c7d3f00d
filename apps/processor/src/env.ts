import {
  readBrokers,
  readDatabaseUrl,
  readInt,
  readBoolean,
  readPort,
  readString,
  readTopicPrefix,
  topicNames,
  ConfigError,
  type TopicNames,
} from '@clickstream/shared';
import type { PartitionOperatorConfig } from './operators/partition-operator.js';
import { DEFAULT_RAW_RETENTION_DAYS, WINDOW_SIZE_MS } from '@clickstream/shared';
import { CRASH_POINTS, parseCrashSpec, type CrashSpec } from './crash-points.js';

/** RETENTION_DAYS: how long result rows are kept (whole partitions go once older). */
export const DEFAULT_RETENTION_DAYS = 400;

export interface ProcessorConfig {
  readonly kafkaBrokers: readonly string[];
  readonly databaseUrl: string;
  readonly topics: TopicNames;
  readonly consumerGroup: string;
  readonly metricsPort: number;
  readonly operator: Readonly<PartitionOperatorConfig>;
  /** How often open-window state, offsets and results are committed. */
  readonly checkpointIntervalMs: number;
  /** Upper bound the broker gives an open output transaction of a dead processor. */
  readonly transactionTimeoutMs: number;
  /** How long the group waits for a silent member before moving its partitions. */
  readonly sessionTimeoutMs: number;
  /** How long the raw topics keep events (RAW_RETENTION_DAYS), enforced on start. */
  readonly rawRetentionMs: number;
  /** Partitions of the result tables wholly older than this many days are dropped (RETENTION_DAYS). */
  readonly retentionDays: number;
  /** Test-only fault injection (PROCESSOR_CRASH_AT=<point>:<n>). */
  readonly crashAt: CrashSpec | undefined;
}

export function parseProcessorConfig(env: Record<string, string | undefined> = process.env): ProcessorConfig {
  const consumerGroup = readString(env, 'PROCESSOR_GROUP', 'clickstream-processor');
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(consumerGroup)) throw new ConfigError('PROCESSOR_GROUP', 'may hold only [A-Za-z0-9._-]');
  return Object.freeze({
    kafkaBrokers: Object.freeze(readBrokers(env)),
    databaseUrl: readDatabaseUrl(env),
    topics: topicNames(readTopicPrefix(env)),
    consumerGroup,
    metricsPort: readPort(env, 'PROCESSOR_METRICS_PORT', 9464),
    operator: Object.freeze({
      windowSizeMs: WINDOW_SIZE_MS,
      outOfOrdernessMs: readInt(env, 'OUT_OF_ORDERNESS_MS', 2000, { max: 3_600_000 }),
      allowedLatenessMs: readInt(env, 'ALLOWED_LATENESS_MS', 60_000, { max: 86_400_000 }),
      idleTimeoutMs: readInt(env, 'IDLE_TIMEOUT_MS', 1000, { min: 1, max: 3_600_000 }),
      retryHorizonMs: readInt(env, 'RETRY_HORIZON_MS', 30_000, { max: 3_600_000 }),
      countBots: readBoolean(env, 'COUNT_BOTS', false),
      sessionGapMs: readInt(env, 'SESSION_GAP_MS', 1_800_000, { min: 1000, max: 86_400_000 }),
      siteAnalytics: readBoolean(env, 'SITE_ANALYTICS', true),
    }),
    checkpointIntervalMs: readInt(env, 'CHECKPOINT_INTERVAL_MS', 1000, { min: 10, max: 600_000 }),
    transactionTimeoutMs: readInt(env, 'TRANSACTION_TIMEOUT_MS', 10_000, { min: 1000, max: 900_000 }),
    sessionTimeoutMs: readInt(env, 'KAFKA_SESSION_TIMEOUT_MS', 10_000, { min: 6000, max: 300_000 }),
    rawRetentionMs: readInt(env, 'RAW_RETENTION_DAYS', DEFAULT_RAW_RETENTION_DAYS, { min: 1, max: 3650 }) * 86_400_000,
    retentionDays: readInt(env, 'RETENTION_DAYS', DEFAULT_RETENTION_DAYS, { min: 1, max: 36_500 }),
    crashAt: readCrashAt(env),
  });
}

function readCrashAt(env: Record<string, string | undefined>): CrashSpec | undefined {
  const raw = env.PROCESSOR_CRASH_AT?.trim();
  if (!raw) return undefined;
  const spec = parseCrashSpec(raw);
  if (!spec) throw new ConfigError('PROCESSOR_CRASH_AT', `expected <point>:<n> with point one of ${CRASH_POINTS.join(', ')}`);
  return spec;
}
