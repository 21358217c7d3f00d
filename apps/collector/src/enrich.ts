import { correctedEventTime, DEFAULT_SITE_ID, type ClientEvent, type EnrichedEvent } from '@clickstream/shared';

export interface RequestFacts {
  receivedAt: number;
  sentAt: number | undefined;
  userAgent: string | undefined;
}

/** Server-side facts added to each accepted event. The client address is deliberately absent. */
export function enrichEvent(event: ClientEvent, facts: RequestFacts): EnrichedEvent {
  return {
    ...event,
    siteId: event.siteId ?? DEFAULT_SITE_ID,
    receivedAt: facts.receivedAt,
    eventTime: correctedEventTime(event.ts, facts.receivedAt, facts.sentAt),
    browser: 'unknown',
    os: 'unknown',
    deviceType: 'other',
    isBot: false,
  };
}
