import { Kafka, logLevel } from 'kafkajs';
import { DEFAULT_PARTITIONS, type TopicNames } from '@clickstream/shared';

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
      await admin.createTopics({
        waitForLeaders: true,
        topics: wanted.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries: [{ name: 'min.insync.replicas', value: '1' }],
        })),
      });
    }
    return wanted;
  } finally {
    await admin.disconnect();
  }
}
