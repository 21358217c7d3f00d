/**
 * Event streams for tests, benches and the chaos run: a seeded stream with what real traffic has,
 * producing it keyed by user as the collector does, sentinels that close every window, and
 * reading a topic back in offset order.
 */
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import pg from 'pg';
import type { EnrichedEvent } from '@clickstream/shared';

/** A seeded PRNG (mulberry32): the same seed gives the same stream, so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface StreamOptions {
  seed: number;
  events: number;
  users: number;
  sites?: string[];
  /** Event-time span of the stream. */
  spanMs: number;
  baseTime: number;
  outOfOrderMs?: number;
  lateRate?: number;
  tooLateRate?: number;
  duplicateRate?: number;
}

/**
 * A clickstream with what real traffic has: many users and sites, events out of order within
 * the bound, late-but-allowed and too-late events, browser retries (same id sent again, with the
 * same or a fresh event time), engagement heartbeats, bots and URLs that spell one page apart.
 */
export function generateStream(options: StreamOptions): EnrichedEvent[] {
  const random = seededRandom(options.seed);
  const sites = options.sites ?? ['shop', 'blog', 'docs'];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const events: EnrichedEvent[] = [];
  const step = options.spanMs / options.events;
  let clock = options.baseTime;
  for (let i = 0; i < options.events; i++) {
    clock += step;
    const roll = random();
    if (roll < (options.duplicateRate ?? 0.05) && events.length > 10) {
      const original = events[events.length - 1 - Math.floor(random() * Math.min(200, events.length))]!;
      const retry = random();
      if (retry < 0.4) {
        events.push({ ...original });
      } else {
        // A browser retry with a fresh sentAt: the collector derives another event time - often
        // just across the next window boundary.
        const eventTime =
          retry < 0.7 ? Math.floor(original.eventTime / 5000) * 5000 + 5000 + Math.floor(random() * 200) : original.eventTime + Math.round((random() - 0.5) * 600);
        events.push({ ...original, eventTime, receivedAt: Math.max(original.receivedAt, eventTime) });
      }
      continue;
    }
    const userIndex = Math.floor(random() * options.users);
    let eventTime = Math.round(clock - random() * (options.outOfOrderMs ?? 1500));
    const lateRoll = random();
    if (lateRoll < (options.tooLateRate ?? 0.02)) eventTime = Math.round(clock - 75_000 - random() * 60_000);
    else if (lateRoll < (options.tooLateRate ?? 0.02) + (options.lateRate ?? 0.04)) eventTime = Math.round(clock - 6000 - random() * 45_000);
    const type = pick(['page_view', 'page_view', 'click', 'click', 'click', 'engagement', 'custom'] as const);
    const base = {
      id: `e${options.seed}-${i}-${Math.floor(random() * 1e9).toString(36)}`,
      type,
      siteId: sites[userIndex % sites.length]!,
      userId: `user-${userIndex}`,
      sessionId: `s-${userIndex}-${Math.floor(random() * 3)}`,
      ts: eventTime,
      // Several spellings of one page: the processor counts the URL parser's path.
      url: `https://${sites[userIndex % sites.length]}.example/${pick(['', 'a', 'b', 'c', 'cart', 'x/../cart', './a', 'a%20b', 'a b'])}?ref=${Math.floor(random() * 5)}${pick(['', '', '', '&utm_source=news&utm_medium=email', '&utm_campaign=spring'])}`,
      referrer: pick([undefined, undefined, 'https://www.search.example/?q=x', `https://${sites[userIndex % sites.length]}.example/`, 'https://social.example/p/1']),
      country: pick(['DE', 'FR', 'US', 'IN', null]),
      receivedAt: eventTime,
      eventTime,
      browser: pick(['Chrome', 'Firefox', 'Safari']),
      os: pick(['Linux', 'Windows', 'iOS']),
      deviceType: pick(['desktop', 'mobile'] as const),
      // A few users are crawlers: left out of every metric.
      isBot: userIndex % 23 === 7,
    };
    // Heartbeats cover up to 15 s of engaged time, spread over the windows before them.
    if (type === 'engagement') events.push({ ...base, engagedMs: Math.round(random() * 15_000) });
    else if (type === 'custom') events.push({ ...base, name: 'signup', props: { plan: 'pro' } });
    else if (type === 'click') events.push({ ...base, target: { tag: 'button', text: 'Buy' } });
    else events.push(base);
  }
  return events;
}

/**
 * One event per partition far ahead in event time: it pushes that partition's watermark past
 * every real window, so all of them close without depending on the wall clock.
 */
export function sentinelEvent(partition: number, eventTime: number): EnrichedEvent {
  return {
    id: `sentinel-${partition}-${eventTime}`,
    type: 'page_view',
    siteId: 'sentinel',
    userId: `sentinel-${partition}`,
    sessionId: 'sentinel',
    ts: eventTime,
    url: 'https://sentinel.example/',
    receivedAt: eventTime,
    eventTime,
    browser: 'none',
    os: 'none',
    deviceType: 'other',
    isBot: true,
  };
}

/**
 * Produces the events keyed by user, as the collector does, then one sentinel per partition far
 * ahead in event time, which pushes every partition's watermark past all real windows.
 */
export async function produceStream(
  brokers: string[],
  topic: string,
  events: EnrichedEvent[],
  partitions: number,
  { sentinels = true } = {},
): Promise<void> {
  const kafka = new Kafka({ brokers, clientId: 'stream-generator', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 500) {
      const chunk = events.slice(i, i + 500);
      await producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.None,
        messages: chunk.map((e) => ({ key: e.userId, value: JSON.stringify(e) })),
      });
    }
    if (!sentinels) return;
    const last = events.reduce((max, e) => Math.max(max, e.eventTime), 0);
    const sentinelMessages = Array.from({ length: partitions }, (_, partition) => {
      const sentinel = sentinelEvent(partition, last + 600_000);
      return { partition, key: sentinel.userId, value: JSON.stringify(sentinel) };
    });
    await producer.send({ topic, acks: -1, messages: sentinelMessages });
  } finally {
    await producer.disconnect();
  }
}

/** Reads a whole topic back, each partition in offset order, up to its current end. */
export async function readTopicLog(
  brokers: string[],
  topic: string,
  { readUncommitted = false, quietMs = 3000 } = {},
): Promise<Array<Array<{ offset: string; key: string | null; value: string }>>> {
  const kafka = new Kafka({ brokers, clientId: 'log-reader', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const logs: Array<Array<{ offset: string; key: string | null; value: string }>> = ends.map(() => []);
  const reached = new Set<number>();
  const consumer = kafka.consumer({ groupId: `log-reader-${Date.now()}-${Math.random()}`, readUncommitted, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let lastMessageAt = Date.now();
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        logs[batch.partition]!.push({ offset: m.offset, key: m.key?.toString() ?? null, value: m.value?.toString() ?? '' });
      }
      lastMessageAt = Date.now();
      const end = Number(ends.find((e) => e.partition === batch.partition)?.high ?? 0);
      if (Number(batch.lastOffset()) >= end - 1) reached.add(batch.partition);
    },
  });
  const deadline = Date.now() + 60_000;
  // read_committed readers never see control records, so "reached the end" may not be observable:
  // stop when every non-empty partition reached its end, or nothing arrived for quietMs.
  const nonEmpty = ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => e.partition);
  while (Date.now() < deadline) {
    if (nonEmpty.every((p) => reached.has(p))) break;
    if (Date.now() - lastMessageAt > quietMs && Date.now() - lastMessageAt > 0 && logs.some((l) => l.length > 0)) break;
    if (nonEmpty.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await consumer.disconnect();
  return logs;
}

/** Whether the processor group's outbox has been fully delivered to Kafka for every partition. */
export async function outboxDrained(databaseUrl: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM processor_outbox');
    return rows[0]!.n === 0;
  } finally {
    await client.end();
  }
}
