/**
 * One log format for every service: pino JSON lines with `level`, `time`, `service` and `msg`.
 * Imported as `@clickstream/shared/logger` (not from the package root, which the browser UI
 * bundles). Nothing secret or personal reaches a line: the request serializer keeps only the
 * method and the URL with credential-like query parameters masked (no headers, no client
 * address), and the usual credential paths are redacted should anything log headers itself.
 */
import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { ConfigError } from './config.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';

type Env = Record<string, string | undefined>;

export interface CreateLoggerOptions {
  /** Where LOG_LEVEL, LOG_FORMAT and NO_COLOR are read; default process.env. */
  env?: Env;
  /** Overrides LOG_LEVEL. */
  level?: LogLevel;
  /** Where the lines go; default stdout. A given stream always gets JSON lines (tests). */
  destination?: DestinationStream;
  /** Whether stdout is a terminal, for the LOG_FORMAT default; default process.stdout.isTTY. */
  isTTY?: boolean;
}

/** What replaces a masked value. */
export const REDACTED = '[redacted]';

/** Paths masked in every line, for code that logs headers or addresses itself. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-forwarded-for"]',
  'req.headers["x-real-ip"]',
  'req.headers.forwarded',
  'req.remoteAddress',
  'req.remotePort',
  'req.ip',
  'req.ips',
  'headers.authorization',
  'headers.cookie',
  'headers["x-forwarded-for"]',
] as const;

/** LOG_LEVEL: one of pino's levels, default `info`. */
export function readLogLevel(env: Env = process.env): LogLevel {
  const raw = env.LOG_LEVEL?.trim().toLowerCase();
  if (!raw) return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new ConfigError('LOG_LEVEL', `"${raw}" is not one of ${LOG_LEVELS.join(', ')}`);
  return raw as LogLevel;
}

/** LOG_FORMAT: `json` or `pretty`; unset means pretty on a terminal and JSON otherwise. */
export function readLogFormat(env: Env = process.env, isTTY = process.stdout.isTTY === true): LogFormat {
  const raw = env.LOG_FORMAT?.trim().toLowerCase();
  if (!raw) return isTTY ? 'pretty' : 'json';
  if (raw !== 'json' && raw !== 'pretty') throw new ConfigError('LOG_FORMAT', `"${raw}" is not json or pretty`);
  return raw;
}

// token, access_token, api_key, apikey, secret, password, auth, signature, sig, ...
const SENSITIVE_QUERY_KEY = /token|secret|passw|api[-_]?key|^key$|auth|signature|^sig$|session/i;

function decodeQueryKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * The URL with the values of credential-like query parameters (`token`, `access_token`,
 * `api_key`, `password`, ...) replaced by `[redacted]`. Keys are compared decoded, as the
 * query parser sees them (`?%74oken=` is `token`).
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const hash = url.indexOf('#', q);
  const query = hash === -1 ? url.slice(q + 1) : url.slice(q + 1, hash);
  let changed = false;
  const parts = query.split('&').map((part) => {
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    if (!SENSITIVE_QUERY_KEY.test(decodeQueryKey(key))) return part;
    changed = true;
    return `${key}=${REDACTED}`;
  });
  if (!changed) return url;
  return `${url.slice(0, q + 1)}${parts.join('&')}${hash === -1 ? '' : url.slice(hash)}`;
}

interface RequestLike {
  method?: string;
  url?: string;
}

/** A request in a log line: method and masked URL; never headers, body or client address. */
export function serializeRequest(req: RequestLike): { method?: string; url?: string } {
  return { method: req?.method, url: typeof req?.url === 'string' ? redactUrl(req.url) : undefined };
}

export function serializeResponse(res: { statusCode?: number }): { statusCode?: number } {
  return { statusCode: res?.statusCode };
}

const requireHere = createRequire(import.meta.url);

function prettyStream(env: Env): DestinationStream {
  // Loaded only when used: production (JSON) never pays for it.
  const pretty = requireHere('pino-pretty') as typeof import('pino-pretty');
  return pretty.build({
    colorize: !env.NO_COLOR,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    singleLine: true,
    destination: 1,
    sync: true,
  });
}

/**
 * The logger of one service. JSON lines on stdout:
 * `{"level":"info","time":"2026-11-29T10:00:00.000Z","service":"collector","pid":1,"msg":"..."}`.
 * LOG_LEVEL (default info) sets the level; LOG_FORMAT=pretty (or unset on a terminal) gives
 * colourised single lines from pino-pretty instead (NO_COLOR turns the colours off).
 * Throws ConfigError naming LOG_LEVEL or LOG_FORMAT when they are bad.
 */
export function createLogger(service: string, options: CreateLoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const level = options.level ?? readLogLevel(env);
  const format = options.destination ? 'json' : readLogFormat(env, options.isTTY ?? process.stdout.isTTY === true);
  const loggerOptions: LoggerOptions = {
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { req: serializeRequest, res: serializeResponse, err: pino.stdSerializers.err },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
  };
  const destination = options.destination ?? (format === 'pretty' ? prettyStream(env) : pino.destination({ fd: 1, sync: true }));
  return pino(loggerOptions, destination);
}

/** A `(message) => void` at one level, for code that takes a plain log function. */
export function logTo(logger: Logger, level: Exclude<LogLevel, 'silent'> = 'info'): (message: string) => void {
  return (message) => logger[level](message);
}
