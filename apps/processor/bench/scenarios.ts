import type { Kafka } from 'kafkajs';
import type { EnrichedEvent } from '@clickstream/shared';

/**
 * A bench input: how many events, how many users, and how much event time they span. The span
 * sets the density that matters here - events per user per 5-second window - because the
 * processor writes one result per (user, window), and each result costs a PostgreSQL row and a
 * Kafka record however many events it summarises.
 */
export interface Scenario {
  name: string;
  description: string;
  events: number;
  users: number;
  spanMs: number;
}

export function scenarios(events: number, users: number): Scenario[] {
  const perUserPerSecond = (spanMs: number) => events / users / (spanMs / 1000);
  const active = (events / users) * 1000; // every user sends one event per second of event time
  const sparse = 2 * 3_600_000; // two hours: about one event per user every three minutes
  return [
    {
      name: 'active',
      description: `users on the page, ${perUserPerSecond(active).toFixed(1)} events/s each (~${((events / users) * 5000 / active).toFixed(0)} events per user-window)`,
      events,
      users,
      spanMs: active,
    },
    {
      name: 'sparse',
      description: `one event per user every ${((sparse / 1000) * users / events / 60).toFixed(0)} min: every event opens its own window`,
      events,
      users,
      spanMs: sparse,
    },
  ];
}

export function makeEvent(i: number, users: number, eventTime: number): EnrichedEvent {
  const user = i % users;
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

/**
 * Writes the scenario's events, users interleaved and event time rising evenly, ending an hour
 * ago (so every window is due at once and the drain is a pure catch-up).
 */
export async function fill(kafka: Kafka, topic: string, scenario: Scenario, say: (line: string) => void): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = Date.now();
  const start = Date.now() - 3_600_000 - scenario.spanMs;
  const step = scenario.spanMs / scenario.events;
  const inFlight: Array<Promise<unknown>> = [];
  for (let i = 0; i < scenario.events; i += 5000) {
    const messages = [];
    for (let j = i; j < Math.min(scenario.events, i + 5000); j++) {
      const event = makeEvent(j, scenario.users, Math.round(start + j * step));
      messages.push({ key: event.userId, value: JSON.stringify(event) });
    }
    inFlight.push(producer.send({ topic, acks: 1, messages }));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await producer.disconnect();
  say(`  filled ${scenario.events.toLocaleString()} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
