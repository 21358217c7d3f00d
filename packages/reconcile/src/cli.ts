/**
 * `pnpm reconcile --site <siteId> --from <time> --to <time>` (scripts/reconcile.ts). Exit codes:
 * 0 everything matches, 1 a difference (or the audit could not compare, e.g. the processor is
 * behind), 2 bad arguments or settings, or a range older than the raw topic's retention.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '@clickstream/shared';
import { reconcile, ReconcileRefused, type ReconcileOptions, type ReconcileResult } from './reconcile.js';
import { parseReconcileEnv } from './settings.js';

export const USAGE = `usage: pnpm reconcile --site <siteId> --from <time> --to <time> [options]
       (or: npm run reconcile -- …)

Exactness audit of a running deployment: re-reads the raw events of the range from
website-clicks (with a consumer of its own; nothing of the pipeline is disturbed), recomputes
windows, visits and site aggregates independently, and compares them with user_metrics,
user_sessions, the site_stats_* rollups, visitor_presence and the user-metrics, user-sessions
and website-clicks-late topics. The result is printed and stored in reconcile_runs.

  --site <siteId>      site to audit; repeat it or separate with commas for several
  --from <time>        start of the event-time range (inclusive)
  --to <time>          end of the range (exclusive); at most now
                       <time>: ISO-8601 (2026-11-25T10:00:00Z), ms since the epoch, "now",
                       or a time ago: -90s, -15m, -2h, -1d
  --wait <seconds>     how long to wait for the processor to catch up (default 120)
  --margin <seconds>   extra warm-up read before from − SESSION_GAP_MS − ALLOWED_LATENESS_MS (default 60)
  --exact-engagement   engaged time must equal the reference (only where IDLE_TIMEOUT_MS never
                       moved the watermark); by default it may be lower, never higher
  --json               print the result as JSON instead of text
  --no-store           do not write the result to reconcile_runs
  -h, --help           this text

Reads KAFKA_BROKERS, DATABASE_URL, TOPIC_PREFIX, PROCESSOR_GROUP, OUT_OF_ORDERNESS_MS,
ALLOWED_LATENESS_MS, RETRY_HORIZON_MS, SESSION_GAP_MS and COUNT_BOTS like the processor.
Exit 0: everything matches; 1: differences (or the processor has not caught up); 2: bad
arguments, or a range older than the raw topic's retention.`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const SITE = /^[A-Za-z0-9._-]{1,64}$/;
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A point in time from the command line: ISO-8601, ms epoch, "now" or "-<n><s|m|h|d>". */
export function parseTime(name: string, raw: string, now: number): number {
  const text = raw.trim();
  if (text === 'now') return now;
  const ago = /^-(\d+)([smhd])$/.exec(text);
  if (ago) return now - Number(ago[1]) * UNITS[ago[2]!]!;
  if (/^\d+$/.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(`--${name} "${raw}" is not a time: use ISO-8601 (2026-11-25T10:00:00Z), ms since the epoch, "now" or a time ago (-15m)`);
}

export interface CliArgs {
  sites: string[];
  from: number;
  to: number;
  waitMs: number;
  marginMs: number;
  engagement: 'exact' | 'at-most';
  json: boolean;
  store: boolean;
}

/** `--from -2h` reads like a flag to parseArgs: joined as `--from=-2h`. */
function joinTimeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if ((arg === '--from' || arg === '--to') && next !== undefined && /^-\d+[smhd]$/.test(next)) {
      out.push(`${arg}=${next}`);
      i += 1;
    } else out.push(arg);
  }
  return out;
}

export function parseCliArgs(argv: string[], now = Date.now()): CliArgs | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: joinTimeValues(argv),
      allowPositionals: false,
      options: {
        site: { type: 'string', multiple: true },
        from: { type: 'string' },
        to: { type: 'string' },
        wait: { type: 'string' },
        margin: { type: 'string' },
        'exact-engagement': { type: 'boolean' },
        json: { type: 'boolean' },
        'no-store': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const sites = [...new Set((values.site ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean))];
  if (sites.length === 0) throw new UsageError('--site is required');
  for (const site of sites) if (!SITE.test(site)) throw new UsageError(`--site "${site}" is not a site id (1–64 of A–Z a–z 0–9 . _ -)`);
  if (values.from === undefined) throw new UsageError('--from is required');
  if (values.to === undefined) throw new UsageError('--to is required');
  const from = parseTime('from', values.from, now);
  const to = parseTime('to', values.to, now);
  if (from >= to) throw new UsageError(`--from (${new Date(from).toISOString()}) must be before --to (${new Date(to).toISOString()})`);
  if (to > now) throw new UsageError(`--to (${new Date(to).toISOString()}) is in the future`);
  const seconds = (name: string, raw: string | undefined, fallback: number, max: number) => {
    if (raw === undefined) return fallback * 1000;
    if (!/^\d+$/.test(raw.trim()) || Number(raw) > max) throw new UsageError(`--${name} "${raw}" is not a number of seconds (0–${max})`);
    return Number(raw) * 1000;
  };
  return {
    sites,
    from,
    to,
    waitMs: seconds('wait', values.wait, 120, 86_400),
    marginMs: seconds('margin', values.margin, 60, 86_400),
    engagement: values['exact-engagement'] ? 'exact' : 'at-most',
    json: values.json ?? false,
    store: !values['no-store'],
  };
}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Runs the command; resolves with the exit code. */
export async function runCli(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) },
  run: (options: ReconcileOptions) => Promise<ReconcileResult> = reconcile,
): Promise<number> {
  let args: CliArgs | 'help';
  let options: ReconcileOptions;
  try {
    args = parseCliArgs(argv);
    if (args === 'help') {
      io.out(`${USAGE}\n`);
      return 0;
    }
    const settings = parseReconcileEnv(env);
    options = {
      brokers: settings.brokers,
      databaseUrl: settings.databaseUrl,
      topics: settings.topics,
      processorGroup: settings.processorGroup,
      operator: settings.operator,
      sites: args.sites,
      from: args.from,
      to: args.to,
      waitMs: args.waitMs,
      marginMs: args.marginMs,
      engagement: args.engagement,
      store: args.store,
      progress: (line) => io.err(`[reconcile] ${line}\n`),
    };
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.err(`reconcile: ${error.message}\n(pnpm reconcile --help for usage)\n`);
      return 2;
    }
    throw error;
  }
  try {
    const result = await run(options);
    io.out(args.json ? `${JSON.stringify(result.summaries, null, 2)}\n` : `${result.text}\n`);
    return result.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof ReconcileRefused) {
      io.err(`reconcile: ${error.message}\n`);
      return 2;
    }
    io.err(`reconcile failed: ${(error as Error).message}\n`);
    return 1;
  }
}
