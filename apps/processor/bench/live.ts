import type { Kafka } from 'kafkajs';
import type { WindowResult } from '@clickstream/shared';
import { makeEvent } from './scenarios.js';
import { benchProcessor, sum } from './drain.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Produces `rate` events/s of live traffic (event time = now) until `stop()`. */
function liveTraffic(kafka: Kafka, topic: string, rate: number, users: number) {
  const producer = kafka.producer();
  let running = true;
  let i = 0;
  const done = (async () => {
    await producer.connect();
    const tickMs = 50;
    let next = Date.now();
    while (running) {
      const batch = [];
      for (let j = 0; j < (rate * tickMs) / 1000; j++, i++) {
        const event = makeEvent(i, users, Date.now());
        batch.push({ key: event.userId, value: JSON.stringify(event) });
      }
      await producer.send({ topic, acks: -1, messages: batch });
      next += tickMs;
      await sleep(Math.max(0, next - Date.now()));
    }
    await producer.disconnect();
  })();
  return {
    get produced() {
      return i;
    },
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/**
 * Live latency: for each first emission, the time from the watermark passing the window's end to
 * the result being readable by a read_committed consumer of user-metrics. With live traffic the
 * watermark passes the end once an event at end + OUT_OF_ORDERNESS_MS (2 s) arrives.
 */
export async function latency(
  kafka: Kafka,
  brokers: readonly string[],
  databaseUrl: string,
  prefix: string,
  topics: { clicks: string; metrics: string },
  options: { seconds: number; rate: number; users: number },
): Promise<{ p50: number; p99: number; max: number; windows: number }> {
  const { processor } = benchProcessor(brokers, databaseUrl, prefix, `${prefix}processor`);
  await processor.start();
  const latencies: number[] = [];
  const reader = kafka.consumer({ groupId: `${prefix}reader`, readUncommitted: false, maxWaitTimeInMs: 50 });
  await reader.connect();
  await reader.subscribe({ topic: topics.metrics, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      const result = JSON.parse(message.value!.toString()) as WindowResult;
      if (result.revision === 0) latencies.push(Date.now() - (Date.parse(result.windowEnd) + 2000));
    },
  });
  const traffic = liveTraffic(kafka, topics.clicks, options.rate, options.users);
  await sleep(options.seconds * 1000);
  await traffic.stop();
  await sleep(5000);
  await reader.disconnect();
  await processor.stop();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] ?? Number.NaN, windows: latencies.length };
}

export interface SoakSample {
  minute: number;
  rssMiB: number;
  heapMiB: number;
  openWindows: number;
  lag: number;
}

/**
 * Memory under steady live traffic: samples every `sampleSeconds`; memory is flat when the
 * second half's trend is close to zero.
 */
export async function memorySoak(
  kafka: Kafka,
  brokers: readonly string[],
  databaseUrl: string,
  prefix: string,
  clicksTopic: string,
  options: { minutes: number; rate: number; users: number; sampleSeconds: number },
  say: (line: string) => void,
): Promise<{ samples: SoakSample[]; rssSlopeMiBPerMinute: number; heapSlopeMiBPerMinute: number; produced: number }> {
  const { processor, metrics } = benchProcessor(brokers, databaseUrl, prefix, `${prefix}processor`);
  await processor.start();
  const traffic = liveTraffic(kafka, clicksTopic, options.rate, options.users);
  const started = Date.now();
  const samples: SoakSample[] = [];
  while (Date.now() - started < options.minutes * 60_000) {
    await sleep(options.sampleSeconds * 1000);
    const memory = process.memoryUsage();
    const lag = Object.values(await processor.consumerLag()).reduce((a, b) => a + b, 0);
    const sample = {
      minute: (Date.now() - started) / 60_000,
      rssMiB: memory.rss / 1048576,
      heapMiB: memory.heapUsed / 1048576,
      openWindows: await sum(metrics.openWindows),
      lag,
    };
    samples.push(sample);
    if (samples.length % 6 === 0) {
      say(`  ${sample.minute.toFixed(1)} min: RSS ${sample.rssMiB.toFixed(0)} MiB, heap ${sample.heapMiB.toFixed(0)} MiB, ${sample.openWindows} open windows, lag ${lag}`);
    }
  }
  await traffic.stop();
  await processor.stop();
  const secondHalf = samples.slice(Math.floor(samples.length / 2));
  return {
    samples,
    rssSlopeMiBPerMinute: slope(secondHalf.map((s) => [s.minute, s.rssMiB])),
    heapSlopeMiBPerMinute: slope(secondHalf.map((s) => [s.minute, s.heapMiB])),
    produced: traffic.produced,
  };
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}
