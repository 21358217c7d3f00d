import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';
import type { DeviceType } from '@clickstream/shared';

export interface UserAgentFacts {
  browser: string;
  os: string;
  deviceType: DeviceType;
  isBot: boolean;
}

const UNKNOWN: UserAgentFacts = Object.freeze({ browser: 'unknown', os: 'unknown', deviceType: 'other', isBot: false });
const MAX_UA_LENGTH = 512;
const CACHE_SIZE = 2000;

/** Parses a User-Agent header (ua-parser-js for browser/OS/device, isbot's list for bots). */
export function parseUserAgent(userAgent: string | undefined): UserAgentFacts {
  if (!userAgent) return UNKNOWN;
  // Real user agents are short; a huge header is only there to make the regexes work hard.
  const ua = userAgent.slice(0, MAX_UA_LENGTH);
  const result = new UAParser(ua).getResult();
  const isBot = isbot(ua);
  return {
    browser: result.browser.name ?? 'unknown',
    os: result.os.name ?? 'unknown',
    deviceType: deviceTypeOf(result.device.type, result.os.name, isBot),
    isBot,
  };
}

function deviceTypeOf(type: string | undefined, os: string | undefined, isBot: boolean): DeviceType {
  if (isBot) return 'bot';
  if (type === 'mobile' || type === 'wearable') return 'mobile';
  if (type === 'tablet') return 'tablet';
  if (type === undefined && os !== undefined) return 'desktop';
  return 'other';
}

/**
 * Parsing costs tens of microseconds and a site's visitors share a few hundred user agents,
 * so results are remembered. The cache is dropped whole when full: simpler than an LRU and
 * a hostile stream of unique agents costs one parse each, as without a cache.
 */
export class UserAgentCache {
  private readonly entries = new Map<string, UserAgentFacts>();
  constructor(private readonly capacity = CACHE_SIZE) {}

  get(userAgent: string | undefined): UserAgentFacts {
    if (!userAgent) return UNKNOWN;
    let facts = this.entries.get(userAgent);
    if (!facts) {
      facts = parseUserAgent(userAgent);
      if (this.entries.size >= this.capacity) this.entries.clear();
      this.entries.set(userAgent, facts);
    }
    return facts;
  }
}
