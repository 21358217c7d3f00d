import type { EnrichedEvent } from '@clickstream/shared';

let nextId = 0;

/**
 * An enriched event as the collector writes it, for operator tests: user u1 of site shop viewing
 * `url` at `eventTime`, each with a new id; `overrides` change any field.
 */
export function testEvent(eventTime: number, overrides: Partial<EnrichedEvent> = {}, url = 'https://shop.example/a'): EnrichedEvent {
  nextId += 1;
  return {
    id: `evt-${String(nextId).padStart(8, '0')}`,
    type: 'page_view',
    siteId: 'shop',
    userId: 'u1',
    sessionId: 's1',
    ts: eventTime,
    url,
    receivedAt: eventTime,
    eventTime,
    browser: 'Chrome',
    os: 'Linux',
    deviceType: 'desktop',
    isBot: false,
    ...overrides,
  };
}
