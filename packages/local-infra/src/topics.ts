import { Kafka, logLevel } from 'kafkajs';
import { DEFAULT_PARTITIONS, DEFAULT_RAW_RETENTION_DAYS, RAW_SEGMENT_MS, RAW_TOPIC_ROLES, RESULTS_RETENTION_MS, type TopicNames } from '@clickstream/shared';
import { waitFor } from './ports.js';

/**
 * Creates the platform's topics when missing. Created up front, waiting for leaders, because
 * fresh topics can briefly fail metadata look-ups (kafkajs #815, #1563). The raw topics
 * (`website-clicks`, `-late`, `-invalid`) get `retention.ms` of RAW_RETENTION_DAYS (default 7)
 * and daily segments (RAW_SEGMENT_MS); the results topics get RESULTS_RETENTION_MS (one day).
 * Existing topics are left as they are: the processor enforces the raw retention on start.
 */
export async function ensureTopics(
  brokers: string[],
  topics: TopicNames,
  partitions = DEFAULT_PARTITIONS,
  { rawRetentionMs = DEFAULT_RAW_RETENTION_DAYS * 86_400_000 }: { rawRetentionMs?: number } = {},
): Promise<string[]> {
  const kafka = new Kafka({ brokers, clientId: 'clickstream-setup', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const raw = new Set(RAW_TOPIC_ROLES.map((role) => topics[role]));
    const wanted = Object.values(topics).filter((name) => !existing.has(name));
    if (wanted.length > 0) {
      // kafkajs' own leader wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a busy broker
      // answers for a moment after creating a topic; the wait below covers what it would check.
      await admin.createTopics({
        waitForLeaders: false,
        topics: wanted.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries: [
            { name: 'min.insync.replicas', value: '1' },
            ...(raw.has(topic)
              ? [
                  { name: 'retention.ms', value: String(rawRetentionMs) },
                  { name: 'segment.ms', value: String(RAW_SEGMENT_MS) },
                ]
              : topic === topics.metrics || topic === topics.sessions
                ? [{ name: 'retention.ms', value: String(RESULTS_RETENTION_MS) }]
                : []),
          ],
        })),
      });
      // Leaders being elected is not enough: until each partition's log is loaded, the broker
      // answers UNKNOWN_TOPIC_OR_PARTITION to produce and list-offsets requests. Wait for that too.
      for (const topic of wanted) {
        await waitFor(`partitions of ${topic} to be served`, async () => {
          const offsets = await admin.fetchTopicOffsets(topic);
          return offsets.length === partitions;
        }, { timeoutMs: 30_000, intervalMs: 100 });
      }
    }
    return wanted;
  } finally {
    await admin.disconnect();
  }
}
