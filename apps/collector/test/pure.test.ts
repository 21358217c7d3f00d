/** Small pure parts: origin policy, encoding negotiation, user agents, enrichment, config. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@clickstream/shared';
import { OriginPolicy } from '../src/cors.js';
import { enrichedEventJson, enrichEvent } from '../src/enrich.js';
import { parseCollectorConfig } from '../src/env.js';
import { pickEncoding } from '../src/snippet-asset.js';
import { parseUserAgent, UserAgentCache } from '../src/user-agent.js';

test('origin policy: * admits all, a list admits its members and requests without Origin', () => {
  const any = new OriginPolicy(['*']);
  assert.equal(any.allowOrigin('https://x.example'), '*');
  const list = new OriginPolicy(['https://shop.example']);
  assert.equal(list.allowOrigin('https://shop.example'), 'https://shop.example');
  assert.equal(list.allowOrigin('https://evil.example'), false);
  assert.equal(list.admits('https://evil.example'), false);
  assert.equal(list.admits(undefined), true);
  assert.equal(list.variesByOrigin, true);
});

test('encoding negotiation prefers br, honours q=0', () => {
  assert.equal(pickEncoding('gzip, deflate, br'), 'br');
  assert.equal(pickEncoding('gzip'), 'gzip');
  assert.equal(pickEncoding('br;q=0, gzip;q=0.5'), 'gzip');
  assert.equal(pickEncoding('identity'), undefined);
  assert.equal(pickEncoding(undefined), undefined);
});

test('user agents: browser, OS, device type and bots', () => {
  const iphone = parseUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1');
  assert.deepEqual(iphone, { browser: 'Mobile Safari', os: 'iOS', deviceType: 'mobile', isBot: false });
  const desktop = parseUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36');
  assert.deepEqual(desktop, { browser: 'Chrome', os: 'Windows', deviceType: 'desktop', isBot: false });
  const ipad = parseUserAgent('Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1');
  assert.equal(ipad.deviceType, 'tablet');
  const bot = parseUserAgent('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)');
  assert.equal(bot.isBot, true);
  assert.equal(bot.deviceType, 'bot');
  assert.deepEqual(parseUserAgent(undefined), { browser: 'unknown', os: 'unknown', deviceType: 'other', isBot: false });
  const cache = new UserAgentCache(1);
  assert.deepEqual(cache.get('curl/8.0'), parseUserAgent('curl/8.0'));
  assert.equal(cache.get('curl/8.0'), cache.get('curl/8.0'), 'cached');
  cache.get('Wget/1.0');
  assert.equal(cache.get('Wget/1.0').isBot, true);
});

test('enrichment corrects device clock skew and never adds the client address', () => {
  const enriched = enrichEvent(
    { id: 'abcdefgh', type: 'page_view', userId: 'u', sessionId: 's', ts: 1_000, url: 'https://a.example/' },
    { receivedAt: 10_000, sentAt: 1_500, userAgent: parseUserAgent(undefined), country: 'DE' },
  );
  assert.equal(enriched.eventTime, 9_500);
  assert.equal(enriched.siteId, 'default');
  assert.equal(enriched.receivedAt, 10_000);
  assert.equal(enriched.country, 'DE');
  assert.ok(!JSON.stringify(enriched).includes('127.0.0.1'));
  assert.deepEqual(Object.keys(enriched).sort(), ['browser', 'country', 'deviceType', 'eventTime', 'id', 'isBot', 'os', 'receivedAt', 'sessionId', 'siteId', 'ts', 'type', 'url', 'userId']);
});

test('the enriched JSON written to Kafka equals the enriched event, with and without siteId', () => {
  const userAgent = parseUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1');
  const facts = { receivedAt: 10_000, sentAt: 1_500, userAgent, country: 'US' as string | null };
  const events = [
    { id: 'abcdefgh', type: 'page_view' as const, userId: 'u"\\', sessionId: 's', ts: 1_000, url: 'https://a.example/\u2028', title: 'caf\u00e9' },
    { id: 'abcdefgi', type: 'custom' as const, siteId: 'shop', userId: 'u', sessionId: 's', ts: 20_000, url: 'https://a.example/', name: 'n', props: { a: 1, b: 'x', c: true } },
  ];
  for (const event of events) assert.deepEqual(JSON.parse(enrichedEventJson(event, facts)), enrichEvent(event, facts));
  assert.deepEqual(JSON.parse(enrichedEventJson(events[0]!, { ...facts, sentAt: undefined })), enrichEvent(events[0]!, { ...facts, sentAt: undefined }));
  const unknown = { ...facts, country: null };
  assert.deepEqual(JSON.parse(enrichedEventJson(events[1]!, unknown)), enrichEvent(events[1]!, unknown));
  assert.equal(JSON.parse(enrichedEventJson(events[1]!, unknown)).country, null);
});

test('config: defaults, and a bad setting names itself', () => {
  const config = parseCollectorConfig({});
  assert.equal(config.port, 8080);
  assert.deepEqual(config.allowedOrigins, ['*']);
  assert.ok(Object.isFrozen(config));
  assert.throws(() => parseCollectorConfig({ ALLOWED_ORIGINS: 'https://a.example/path' }), (e: unknown) => e instanceof ConfigError && e.setting === 'ALLOWED_ORIGINS');
  assert.throws(() => parseCollectorConfig({ RATE_LIMIT_PER_MIN: '0' }), /RATE_LIMIT_PER_MIN/);
  assert.throws(() => parseCollectorConfig({ PRODUCE_LINGER_MS: 'x' }), /PRODUCE_LINGER_MS/);
});
