/**
 * Helpers for each app's `env.ts`: settings are parsed once at start-up, and a bad one stops
 * the service with a message that names it.
 */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`invalid setting ${setting}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function readString(env: Env, name: string, fallback?: string): string {
  const raw = env[name]?.trim();
  if (raw) return raw;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(name, 'is required');
}

export function readInt(env: Env, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `"${raw}" is not an integer`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `${value} is outside ${min}..${max}`);
  return value;
}

export function readPort(env: Env, name: string, fallback: number): number {
  return readInt(env, name, fallback, { min: 0, max: 65535 });
}

export function readList(env: Env, name: string, fallback: string[]): string[] {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError(name, 'is an empty list');
  return items;
}

export function readBrokers(env: Env, name = 'KAFKA_BROKERS'): string[] {
  const brokers = readList(env, name, ['localhost:9092']);
  for (const broker of brokers) {
    if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(broker)) throw new ConfigError(name, `"${broker}" is not host:port`);
  }
  return brokers;
}

export function readDatabaseUrl(env: Env, name = 'DATABASE_URL'): string {
  const raw = readString(env, name, 'postgres://postgres@127.0.0.1:5432/clickstream');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(name, 'must start with postgres:// or postgresql://');
  }
  return raw;
}

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `"${raw}" is not a boolean`);
}

/** Topic names may be prefixed (tests, side-by-side deployments); the prefix is checked once. */
export function readTopicPrefix(env: Env, name = 'TOPIC_PREFIX'): string {
  const raw = env[name]?.trim() ?? '';
  if (raw && !/^[A-Za-z0-9._-]{1,100}$/.test(raw)) throw new ConfigError(name, 'may hold only [A-Za-z0-9._-]');
  return raw;
}

/** Runs an app's config parser; on a bad setting prints it and exits, as the contract says. */
export function loadConfigOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
