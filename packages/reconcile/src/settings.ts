/**
 * What the audit reads from the environment: the same settings, names, defaults and bounds as the
 * processor it checks (KAFKA_BROKERS, DATABASE_URL, TOPIC_PREFIX, PROCESSOR_GROUP and the window
 * settings), so that it runs next to a deployment with that deployment's environment.
 */
import { ConfigError, readBoolean, readBrokers, readDatabaseUrl, readInt, readString, readTopicPrefix, topicNames, type TopicNames } from '@clickstream/shared';

/** The processor's window semantics the reference must replay with. */
export interface OperatorSettings {
  outOfOrdernessMs: number;
  allowedLatenessMs: number;
  retryHorizonMs: number;
  sessionGapMs: number;
  countBots: boolean;
}

export interface ReconcileEnv {
  brokers: string[];
  databaseUrl: string;
  topics: TopicNames;
  /** The processor's consumer group (PROCESSOR_GROUP): whose checkpoints say how far it got. */
  processorGroup: string;
  operator: OperatorSettings;
}

export function parseReconcileEnv(env: Record<string, string | undefined> = process.env): ReconcileEnv {
  const processorGroup = readString(env, 'PROCESSOR_GROUP', 'clickstream-processor');
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(processorGroup)) throw new ConfigError('PROCESSOR_GROUP', 'may hold only [A-Za-z0-9._-]');
  return {
    brokers: readBrokers(env),
    databaseUrl: readDatabaseUrl(env),
    topics: topicNames(readTopicPrefix(env)),
    processorGroup,
    operator: {
      outOfOrdernessMs: readInt(env, 'OUT_OF_ORDERNESS_MS', 2000, { max: 3_600_000 }),
      allowedLatenessMs: readInt(env, 'ALLOWED_LATENESS_MS', 60_000, { max: 86_400_000 }),
      retryHorizonMs: readInt(env, 'RETRY_HORIZON_MS', 30_000, { max: 3_600_000 }),
      sessionGapMs: readInt(env, 'SESSION_GAP_MS', 1_800_000, { min: 1000, max: 86_400_000 }),
      countBots: readBoolean(env, 'COUNT_BOTS', false),
    },
  };
}
