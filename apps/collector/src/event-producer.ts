import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { EnrichedEvent, InvalidEventRecord, TopicNames } from '@clickstream/shared';
import { CollectorError } from './errors.js';

export interface EventProducerOptions {
  brokers: readonly string[];
  topics: TopicNames;
  produceTimeoutMs: number;
}

/** The collector's only contact with Kafka: durable (acks=all, idempotent) writes of events. */
export class EventProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(private readonly options: EventProducerOptions) {
    const kafka = new Kafka({
      clientId: 'clickstream-collector',
      brokers: [...options.brokers],
      logLevel: logLevel.ERROR,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Resolves once Kafka acknowledged every event with acks=all; rejects with a 503 error otherwise. */
  async sendEvents(events: EnrichedEvent[], invalid: InvalidEventRecord[]): Promise<void> {
    const topicMessages = [];
    if (events.length > 0) {
      topicMessages.push({
        topic: this.options.topics.clicks,
        messages: events.map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
      });
    }
    if (invalid.length > 0) {
      topicMessages.push({
        topic: this.options.topics.invalid,
        messages: invalid.map((r) => ({ value: JSON.stringify(r) })),
      });
    }
    if (topicMessages.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CollectorError('KAFKA_UNAVAILABLE', 'Kafka did not answer in time')), this.options.produceTimeoutMs);
    });
    try {
      await Promise.race([this.producer.sendBatch({ topicMessages, acks: -1 }), timeout]);
    } catch (error) {
      if (error instanceof CollectorError) throw error;
      throw new CollectorError('KAFKA_UNAVAILABLE', (error as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
    this.connected = false;
  }
}
