/**
 * `pnpm bench processor`: throughput, memory and latency of the exactly-once processor against
 * the client's ceiling, measured in the same run on the same data.
 *
 *   1. fill a fresh website-clicks topic with BENCH_EVENTS events of BENCH_USERS users;
 *   2. baseline: a plain kafkajs consumer that reads and commits, nothing else;
 *   3. the processor (exactly-once on, PostgreSQL + transactional Kafka) draining the same topic;
 *   4. latency: a live stream at BENCH_LIVE_RATE events/s; for each committed window, the time
 *      from the watermark passing its end to the result being readable (read_committed).
 *
 * Env: BENCH_EVENTS (2000000), BENCH_USERS (50000), BENCH_LIVE_SECONDS (20), BENCH_LIVE_RATE (2000).
 */
import { Kafka, logLevel } from 'kafkajs';
import { ensureTopics } from '@clickstream/local-infra';
import { ensureDatabase, migrate } from '@clickstream/db';
import { serverUrlOf } from '@clickstream/local-infra';
import { topicNames, type EnrichedEvent, type WindowResult } from '@clickstream/shared';
import { parseProcessorConfig } from '../src/env.js';
import { Processor } from '../src/processor.js';
import { createProcessorMetrics } from '../src/metrics.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const TOTAL = Number(process.env.BENCH_EVENTS ?? 2_000_000);
const USERS = Number(process.env.BENCH_USERS ?? 50_000);
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 20);
const LIVE_RATE = Number(process.env.BENCH_LIVE_RATE ?? 2000);
const run = `bench${Date.now().toString(36)}`;
const topics = topicNames(`${run}-`);
const kafka = new Kafka({ brokers, clientId: 'processor-bench', logLevel: logLevel.NOTHING });
const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function makeEvent(i: number, eventTime: number): EnrichedEvent {
  const user = i % USERS;
  return {
    id: `b${i.toString(36)}-${user}`,
    type: i % 3 === 0 ? 'click' : i % 7 === 0 ? 'engagement' : 'page_view',
    siteId: `site${user % 5}`,
    userId: `user-${user}`,
    sessionId: `s${user}`,
    ts: eventTime,
    url: `https://site${user % 5}.example/p${i % 13}`,
    receivedAt: eventTime,
    eventTime,
    browser: 'Chrome',
    os: 'Linux',
    deviceType: 'desktop',
    isBot: false,
    ...(i % 7 === 0 && i % 3 !== 0 ? { engagedMs: 800 } : {}),
  } as EnrichedEvent;
}

async function fill(): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = Date.now();
  // Two hours of event time ending an hour ago; users interleaved, so windows stay open across users.
  const start = Date.now() - 3 * 3_600_000;
  const step = (2 * 3_600_000) / TOTAL;
  const inFlight: Array<Promise<unknown>> = [];
  for (let i = 0; i < TOTAL; i += 5000) {
    const messages = [];
    for (let j = i; j < Math.min(TOTAL, i + 5000); j++) {
      const event = makeEvent(j, Math.round(start + j * step));
      messages.push({ key: event.userId, value: JSON.stringify(event) });
    }
    inFlight.push(producer.send({ topic: topics.clicks, acks: 1, messages }));
    if (inFlight.length >= 4) await inFlight.shift();
    if (i % 500_000 === 0 && i > 0) say(`  filled ${i.toLocaleString()} events`);
  }
  await Promise.all(inFlight);
  await producer.disconnect();
  say(`filled ${TOTAL.toLocaleString()} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function baseline(): Promise<number> {
  const consumer = kafka.consumer({ groupId: `${run}-baseline`, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.clicks, fromBeginning: true });
  let seen = 0;
  let started = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
        if (!started) started = Date.now();
        seen += batch.messages.length;
        resolveOffset(batch.lastOffset());
        await commitOffsetsIfNecessary({
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }] }],
        });
        if (seen >= TOTAL) resolve();
      },
    });
  });
  await done;
  const seconds = (Date.now() - started) / 1000;
  await consumer.disconnect();
  return TOTAL / seconds;
}

async function drain(databaseUrl: string): Promise<{ rate: number; rssPer100k: number; checkpointP50: number; checkpointMax: number }> {
  const metrics = createProcessorMetrics();
  const processor = new Processor(
    parseProcessorConfig({
      KAFKA_BROKERS: brokers.join(','),
      DATABASE_URL: databaseUrl,
      TOPIC_PREFIX: `${run}-`,
      PROCESSOR_GROUP: `${run}-processor`,
      IDLE_TIMEOUT_MS: '3600000',
    }),
    { log: () => {}, metrics },
  );
  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  await processor.start();
  let peakWindows = 0;
  let peakRss = 0;
  for (;;) {
    await sleep(500);
    const values = (await metrics.openWindows.get()).values;
    peakWindows = Math.max(peakWindows, values.reduce((sum, v) => sum + v.value, 0));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const lag = await processor.consumerLag();
    const counted = (await metrics.eventsIn.get()).values.reduce((sum, v) => sum + v.value, 0);
    if (counted >= TOTAL && Object.values(lag).every((l) => l === 0) && processor.idle) break;
  }
  const seconds = (Date.now() - started) / 1000;
  const histogram = (await metrics.checkpointDuration.get()).values;
  const count = histogram.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  const sum = histogram.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  await processor.stop();
  return {
    rate: TOTAL / seconds,
    rssPer100k: peakWindows > 0 ? ((peakRss - rssBefore) / peakWindows) * 100_000 : 0,
    checkpointP50: count > 0 ? (sum / count) * 1000 : 0,
    checkpointMax: peakWindows,
  };
}

async function latency(databaseUrl: string): Promise<{ p50: number; p99: number; windows: number }> {
  const liveTopics = topicNames(`${run}-live-`);
  await ensureTopics(brokers, liveTopics);
  const processor = new Processor(
    parseProcessorConfig({
      KAFKA_BROKERS: brokers.join(','),
      DATABASE_URL: databaseUrl,
      TOPIC_PREFIX: `${run}-live-`,
      PROCESSOR_GROUP: `${run}-live`,
    }),
    { log: () => {} },
  );
  await processor.start();
  const latencies: number[] = [];
  const reader = kafka.consumer({ groupId: `${run}-live-reader`, readUncommitted: false, maxWaitTimeInMs: 50 });
  await reader.connect();
  await reader.subscribe({ topic: liveTopics.metrics, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      const result = JSON.parse(message.value!.toString()) as WindowResult;
      if (result.revision !== 0) return;
      // The watermark passes the window's end once an event at end + OUT_OF_ORDERNESS_MS (2 s) is processed.
      latencies.push(Date.now() - (Date.parse(result.windowEnd) + 2000));
    },
  });
  const producer = kafka.producer();
  await producer.connect();
  const started = Date.now();
  let i = 0;
  while (Date.now() - started < LIVE_SECONDS * 1000) {
    const batch = [];
    for (let j = 0; j < LIVE_RATE / 20; j++, i++) {
      const event = makeEvent(i, Date.now());
      batch.push({ key: event.userId, value: JSON.stringify(event) });
    }
    await producer.send({ topic: liveTopics.clicks, acks: -1, messages: batch });
    await sleep(50);
  }
  await sleep(5000);
  await producer.disconnect();
  await reader.disconnect();
  await processor.stop();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), windows: latencies.length };
}

const databaseUrl = `${serverUrlOf(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')}/clickstream_bench`;
await ensureDatabase(databaseUrl);
await migrate(databaseUrl);
await ensureTopics(brokers, topics);
say(`processor bench: ${TOTAL.toLocaleString()} events, ${USERS.toLocaleString()} users, 6 partitions`);
await fill();
const ceiling = await baseline();
say(`plain kafkajs consumer (read + commit):   ${Math.round(ceiling).toLocaleString()} events/s`);
const drained = await drain(databaseUrl);
say(`processor, exactly-once, PostgreSQL+Kafka: ${Math.round(drained.rate).toLocaleString()} events/s`);
say(`ratio processor / plain consumer:          ${(drained.rate / ceiling).toFixed(2)}`);
say(`checkpoint duration (mean):                ${drained.checkpointP50.toFixed(1)} ms`);
say(`peak open windows:                         ${drained.checkpointMax.toLocaleString()}`);
say(`RSS per 100,000 open windows:              ${(drained.rssPer100k / 1024 / 1024).toFixed(1)} MiB`);
const live = await latency(databaseUrl);
say(`live latency, watermark passed -> committed result readable (${live.windows} windows): p50 ${live.p50} ms, p99 ${live.p99} ms`);
const admin = kafka.admin();
await admin.connect();
await admin.deleteTopics({ topics: [...Object.values(topics), ...Object.values(topicNames(`${run}-live-`))] }).catch(() => {});
await admin.disconnect();
process.exit(0);
