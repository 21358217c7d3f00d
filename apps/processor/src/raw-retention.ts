import kafkajs, { type Admin, type IResourceConfig } from 'kafkajs';
import { RAW_SEGMENT_MS, RAW_TOPIC_ROLES, type TopicNames } from '@clickstream/shared';

export interface RawRetentionLog {
  info(message: string): void;
  warn(message: string): void;
}

export type RetentionOutcome = 'set' | 'unchanged' | 'missing';

/**
 * Raw events (`website-clicks`, `website-clicks-late`, `website-clicks-invalid`) must not outlive
 * RAW_RETENTION_DAYS (contract, "Erasure"). Topic creation sets `retention.ms` (and daily segments,
 * RAW_SEGMENT_MS, since Kafka deletes whole segments); this enforces both on start for topics that
 * already exist (created before, by hand, or with another setting).
 *
 * kafkajs has no IncrementalAlterConfigs, and AlterConfigs replaces every dynamic config of the
 * topic, so the topic's own configs (source TOPIC_CONFIG) are read first and written back with
 * `retention.ms` and `segment.ms` changed. A topic that is not there yet is left to whoever creates it. Failures
 * are logged, never thrown: the processor still starts (an AlterConfigs denied by ACLs, say).
 */
export async function enforceRawRetention(
  config: { kafkaBrokers: readonly string[]; topics: TopicNames; rawRetentionMs: number },
  log: RawRetentionLog,
): Promise<Record<string, RetentionOutcome> | undefined> {
  const kafka = new kafkajs.Kafka({
    clientId: 'clickstream-processor-retention',
    brokers: [...config.kafkaBrokers],
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5000 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = RAW_TOPIC_ROLES.map((role) => config.topics[role]);
    const wanted = { 'retention.ms': String(config.rawRetentionMs), 'segment.ms': String(Math.min(RAW_SEGMENT_MS, config.rawRetentionMs)) };
    const outcomes = await setTopicConfigs(admin, topics, wanted);
    const changed = Object.entries(outcomes).filter(([, o]) => o === 'set').map(([t]) => t);
    if (changed.length > 0) {
      log.info(`raw topics ${changed.join(', ')}: retention.ms set to ${wanted['retention.ms']} (RAW_RETENTION_DAYS), segment.ms to ${wanted['segment.ms']}`);
    }
    return outcomes;
  } catch (error) {
    log.warn(`could not enforce RAW_RETENTION_DAYS on the raw topics (${(error as Error).message}); raw events keep the topics' current retention`);
    return undefined;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Sets the configs on the topics that exist, keeping their other dynamic configs. */
export async function setTopicConfigs(
  admin: Admin,
  topics: readonly string[],
  wanted: Readonly<Record<string, string>>,
): Promise<Record<string, RetentionOutcome>> {
  const existing = new Set(await admin.listTopics());
  const outcomes: Record<string, RetentionOutcome> = {};
  const present = topics.filter((topic) => {
    if (!existing.has(topic)) outcomes[topic] = 'missing';
    return existing.has(topic);
  });
  if (present.length === 0) return outcomes;
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name })),
  });
  const changes: IResourceConfig[] = [];
  for (const resource of described.resources) {
    const own = resource.configEntries.filter((e) => e.configSource === kafkajs.ConfigSource.TOPIC_CONFIG);
    if (Object.entries(wanted).every(([name, value]) => own.find((e) => e.configName === name)?.configValue === value)) {
      outcomes[resource.resourceName] = 'unchanged';
      continue;
    }
    const secret = own.find((e) => e.isSensitive || e.configValue === null);
    // Its value is not readable, so writing the others back would drop it.
    if (secret) throw new Error(`topic ${resource.resourceName} has a config whose value cannot be read back (${secret.configName})`);
    const configEntries = own.filter((e) => !(e.configName in wanted)).map((e) => ({ name: e.configName, value: e.configValue }));
    for (const [name, value] of Object.entries(wanted)) configEntries.push({ name, value });
    changes.push({ type: kafkajs.ConfigResourceTypes.TOPIC, name: resource.resourceName, configEntries });
    outcomes[resource.resourceName] = 'set';
  }
  if (changes.length > 0) await admin.alterConfigs({ validateOnly: false, resources: changes });
  return outcomes;
}
