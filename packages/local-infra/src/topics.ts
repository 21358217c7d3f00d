import { Kafka, logLevel } from 'kafkajs';
import { DEFAULT_PARTITIONS, type TopicNames } from '@clickstream/shared';
import { waitFor } from './ports.js';

/**
 * Creates the platform's topics when missing. Created up front, waiting for leaders, because
 * fresh topics can briefly fail metadata look-ups (kafkajs #815, #1563).
 */
export async function ensureTopics(
  brokers: string[],
  topics: TopicNames,
  partitions = DEFAULT_PARTITIONS,
): Promise<string[]> {
  const kafka = new Kafka({ brokers, clientId: 'clickstream-setup', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
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
          configEntries: [{ name: 'min.insync.replicas', value: '1' }],
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
