import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  readBrokers,
  readDatabaseUrl,
  readInt,
  readList,
  readPort,
  readString,
  readTopicPrefix,
  topicNames,
  type TopicNames,
} from '@clickstream/shared';
import { MAX_TOKEN_LENGTH } from './auth.js';
import type { FreshnessThresholds, Threshold } from './pipeline-store.js';

export interface DashboardConfig {
  readonly port: number;
  readonly host: string;
  readonly production: boolean;
  readonly kafkaBrokers: readonly string[];
  readonly databaseUrl: string;
  readonly topics: TopicNames;
  /** The admin token: every route, erasure included. */
  readonly apiToken: string;
  /** Read-only tokens (API_READ_TOKENS): every GET route and the live feed; erasing answers 403. */
  readonly apiReadTokens: readonly string[];
  /** True when API_TOKEN was not set and a throw-away token was made for this run (never in production). */
  readonly apiTokenGenerated: boolean;
  /** Origins (besides the dashboard's own) whose pages may open the live WebSocket. */
  readonly allowedOrigins: readonly string[];
  /** Where browsers reach the collector; handed to the UI and demo pages by /config.json. */
  readonly collectorPublicUrl: string;
  /** The built UI (Vite output) and the demo shop pages. */
  readonly webDir: string;
  readonly demoDir: string;
  /** A live client whose unsent backlog is above this many bytes misses frames until it drains. */
  readonly liveMaxBufferedBytes: number;
  /** Gap fill on reconnect reaches back at most this far, and sends at most this many windows. */
  readonly liveMaxGapMs: number;
  readonly liveGapFillLimit: number;
  readonly maxLiveClients: number;
  /** How often committed timeline deltas are folded into the per-window site totals. */
  readonly rollupFoldIntervalMs: number;
  /** Stats queries (POST /api/v1/query) are cancelled after this long (statement_timeout). */
  readonly queryTimeoutMs: number;
  /** When GET /api/v1/pipeline's figures turn amber and red (FRESHNESS_*). */
  readonly freshnessThresholds: FreshnessThresholds;
}

const appDir = fileURLToPath(new URL('../..', import.meta.url));

/**
 * What every token must be: long enough not to be guessed, sendable as `Bearer <token>` (no
 * white space) and within what the check accepts. Messages never repeat the value: they are
 * printed when the service exits.
 */
function checkToken(name: string, token: string, which = ''): void {
  if (token.length < 16) throw new ConfigError(name, `${which}must be at least 16 characters long`);
  if (token.length > MAX_TOKEN_LENGTH) throw new ConfigError(name, `${which}must be at most ${MAX_TOKEN_LENGTH} characters long`);
  if (/[\s\x00-\x1f\x7f]/.test(token)) throw new ConfigError(name, `${which}must not contain white space or control characters`);
}

function readReadTokens(env: Record<string, string | undefined>, apiToken: string): string[] {
  const tokens = readList(env, 'API_READ_TOKENS', []);
  tokens.forEach((token, i) => {
    const which = `entry ${i + 1} `;
    checkToken('API_READ_TOKENS', token, which);
    if (token === apiToken) throw new ConfigError('API_READ_TOKENS', `${which}equals API_TOKEN; a read-only token must differ from the admin token`);
  });
  return [...new Set(tokens)];
}

function readOrigin(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, `"${value}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, `"${value}" is not http(s)`);
  return url.origin;
}

/** `amber,red`: two integers, amber below red (FRESHNESS_* settings of the pipeline panel). */
function readThreshold(env: Record<string, string | undefined>, name: string, fallback: Threshold): Threshold {
  const raw = env[name]?.trim();
  if (!raw) return Object.freeze({ ...fallback });
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length !== 2 || !parts.every((p) => /^\d{1,12}$/.test(p))) {
    throw new ConfigError(name, `"${raw}" is not "amber,red": two whole numbers such as ${fallback.amber},${fallback.red}`);
  }
  const [amber, red] = parts.map(Number) as [number, number];
  if (amber >= red) throw new ConfigError(name, `amber (${amber}) must be below red (${red})`);
  return Object.freeze({ amber, red });
}

export function parseDashboardConfig(env: Record<string, string | undefined> = process.env): DashboardConfig {
  const production = env.NODE_ENV?.trim() === 'production';
  let apiToken = readString(env, 'API_TOKEN', '');
  const apiTokenGenerated = apiToken === '';
  if (apiTokenGenerated) {
    if (production) throw new ConfigError('API_TOKEN', 'is required when NODE_ENV=production (at least 16 characters)');
    apiToken = randomBytes(24).toString('base64url');
  }
  checkToken('API_TOKEN', apiToken);
  const apiReadTokens = readReadTokens(env, apiToken);
  const collectorPublicUrl = readString(env, 'COLLECTOR_PUBLIC_URL', 'http://localhost:8080');
  readOrigin('COLLECTOR_PUBLIC_URL', collectorPublicUrl);
  return Object.freeze({
    port: readPort(env, 'DASHBOARD_PORT', 3000),
    host: readString(env, 'DASHBOARD_HOST', '0.0.0.0'),
    production,
    kafkaBrokers: Object.freeze(readBrokers(env)),
    databaseUrl: readDatabaseUrl(env),
    topics: topicNames(readTopicPrefix(env)),
    apiToken,
    apiReadTokens: Object.freeze(apiReadTokens),
    apiTokenGenerated,
    allowedOrigins: Object.freeze(readList(env, 'DASHBOARD_ALLOWED_ORIGINS', []).map((o) => readOrigin('DASHBOARD_ALLOWED_ORIGINS', o))),
    collectorPublicUrl: collectorPublicUrl.replace(/\/+$/, ''),
    webDir: readString(env, 'DASHBOARD_WEB_DIR', `${appDir}dist/web`),
    demoDir: readString(env, 'DASHBOARD_DEMO_DIR', `${appDir}demo`),
    liveMaxBufferedBytes: readInt(env, 'LIVE_MAX_BUFFERED_BYTES', 1024 * 1024, { min: 1024, max: 256 * 1024 * 1024 }),
    liveMaxGapMs: readInt(env, 'LIVE_MAX_GAP_MS', 60 * 60 * 1000, { min: 1000, max: 7 * 24 * 60 * 60 * 1000 }),
    liveGapFillLimit: readInt(env, 'LIVE_GAP_FILL_LIMIT', 10_000, { min: 1, max: 1_000_000 }),
    maxLiveClients: readInt(env, 'LIVE_MAX_CLIENTS', 1000, { min: 1, max: 100_000 }),
    rollupFoldIntervalMs: readInt(env, 'ROLLUP_FOLD_INTERVAL_MS', 5000, { min: 100, max: 3_600_000 }),
    queryTimeoutMs: readInt(env, 'QUERY_TIMEOUT_MS', 10_000, { min: 1, max: 600_000 }),
    freshnessThresholds: Object.freeze({
      eventToVisibleMs: readThreshold(env, 'FRESHNESS_LATENCY_MS', { amber: 10_000, red: 30_000 }),
      watermarkLagMs: readThreshold(env, 'FRESHNESS_WATERMARK_LAG_MS', { amber: 10_000, red: 60_000 }),
      consumerLag: readThreshold(env, 'FRESHNESS_CONSUMER_LAG', { amber: 10_000, red: 100_000 }),
      checkpointAgeMs: readThreshold(env, 'FRESHNESS_CHECKPOINT_AGE_MS', { amber: 5000, red: 30_000 }),
    }),
  });
}
