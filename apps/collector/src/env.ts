import { isIP } from 'node:net';
import { ConfigError, readBrokers, readInt, readList, readPort, readString, readTopicPrefix, topicNames, type TopicNames } from '@clickstream/shared';

export interface CollectorConfig {
  readonly port: number;
  readonly host: string;
  readonly kafkaBrokers: readonly string[];
  readonly topics: TopicNames;
  /** `*` allows any origin: the collector is public by design. */
  readonly allowedOrigins: readonly string[];
  readonly rateLimitPerMin: number;
  /** How long a request may wait for Kafka before it is answered 503. */
  readonly produceTimeoutMs: number;
  /** How long a produce batch waits for company when the producer is idle. */
  readonly produceLingerMs: number;
  /** Upper bound of events (valid + invalid) in one produce request. */
  readonly produceMaxBatchEvents: number;
  /** Idempotent producers used side by side (kafkajs allows one call in flight per producer). */
  readonly produceConcurrency: number;
  /** Compression of produce batches: gzip (default; every kafkajs consumer reads it) or none. */
  readonly produceCompression: 'gzip' | 'none';
  /**
   * Whether X-Forwarded-For gives the client address (for the country and the rate limiter),
   * as Fastify's `trustProxy` takes it: false (the socket's peer), true (the left-most entry),
   * a hop count (trust that many proxies in front), or the addresses/CIDRs of your proxies.
   */
  readonly trustProxy: TrustProxy;
  /** A country MMDB file to use instead of the bundled one; undefined: the bundled one. */
  readonly countryDb: string | undefined;
}

export type TrustProxy = boolean | number | readonly string[];

export function parseCollectorConfig(env: Record<string, string | undefined> = process.env): CollectorConfig {
  return Object.freeze({
    port: readPort(env, 'COLLECTOR_PORT', 8080),
    host: readString(env, 'COLLECTOR_HOST', '0.0.0.0'),
    kafkaBrokers: Object.freeze(readBrokers(env)),
    topics: topicNames(readTopicPrefix(env)),
    allowedOrigins: Object.freeze(readOrigins(env)),
    rateLimitPerMin: readInt(env, 'RATE_LIMIT_PER_MIN', 600, { min: 1 }),
    produceTimeoutMs: readInt(env, 'PRODUCE_TIMEOUT_MS', 3000, { min: 100, max: 60_000 }),
    produceLingerMs: readInt(env, 'PRODUCE_LINGER_MS', 2, { min: 0, max: 1000 }),
    produceMaxBatchEvents: readInt(env, 'PRODUCE_MAX_BATCH_EVENTS', 5000, { min: 1, max: 100_000 }),
    produceConcurrency: readInt(env, 'PRODUCE_CONCURRENCY', 3, { min: 1, max: 16 }),
    produceCompression: readCompression(env),
    trustProxy: readTrustProxy(env),
    countryDb: env.COUNTRY_DB?.trim() || undefined,
  });
}

function readOrigins(env: Record<string, string | undefined>): string[] {
  const origins = readList(env, 'ALLOWED_ORIGINS', ['*']);
  for (const origin of origins) {
    if (origin === '*') continue;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError('ALLOWED_ORIGINS', `"${origin}" is not an origin like https://shop.example`);
    }
    if (parsed.origin !== origin) throw new ConfigError('ALLOWED_ORIGINS', `"${origin}" is not an origin like https://shop.example (no path or trailing slash)`);
  }
  return origins;
}

function readCompression(env: Record<string, string | undefined>): 'gzip' | 'none' {
  const raw = readString(env, 'PRODUCE_COMPRESSION', 'gzip').toLowerCase();
  if (raw !== 'gzip' && raw !== 'none') throw new ConfigError('PRODUCE_COMPRESSION', `"${raw}" is not gzip or none`);
  return raw;
}

// proxy-addr's names for the special-purpose ranges proxies usually sit in.
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrSubnet(entry: string): boolean {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return false;
  if (slash === -1) return true;
  const mask = entry.slice(slash + 1);
  if (/^\d{1,3}$/.test(mask)) return Number(mask) <= (version === 4 ? 32 : 128);
  return version === 4 && isIP(mask) === 4; // 10.0.0.0/255.0.0.0
}

/**
 * TRUST_PROXY: `false` (default) / `true`, a hop count (`1`: one proxy of yours in front; `0` is
 * false), or a comma-separated list of proxy addresses and CIDRs (`10.0.0.0/8,127.0.0.1`,
 * also `loopback`, `linklocal`, `uniquelocal`).
 */
export function readTrustProxy(env: Record<string, string | undefined>): TrustProxy {
  const raw = env.TRUST_PROXY?.trim();
  if (!raw) return false;
  const lower = raw.toLowerCase();
  if (['true', 'yes', 'on'].includes(lower)) return true;
  if (['false', 'no', 'off'].includes(lower)) return false;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 100) throw new ConfigError('TRUST_PROXY', `${hops} proxy hops is more than 100`);
    return hops === 0 ? false : hops;
  }
  const entries = raw.split(',').map((s) => s.trim());
  for (const entry of entries) {
    if (!PROXY_RANGE_NAMES.has(entry.toLowerCase()) && !isAddressOrSubnet(entry)) {
      throw new ConfigError(
        'TRUST_PROXY',
        `"${entry}" is not true, false, a hop count, or a proxy address/CIDR (e.g. 10.0.0.0/8, loopback)`,
      );
    }
  }
  return Object.freeze(entries.map((e) => (PROXY_RANGE_NAMES.has(e.toLowerCase()) ? e.toLowerCase() : e)));
}
