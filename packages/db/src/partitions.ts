import type pg from 'pg';

/**
 * Time partitions of the tables that grow with traffic (migration 1796000000020_time-partitions:
 * why each table has the period it has, and why the DEFAULT partition stays empty). The processor
 * runs `maintainPartitions` at start and every hour (apps/processor/src/partition-maintenance.ts).
 *
 * Locks, so that writers are never locked out:
 * - A partition is created as a plain table and then attached: ATTACH PARTITION takes only SHARE
 *   UPDATE EXCLUSIVE on the parent, which no INSERT, UPDATE, DELETE or SELECT conflicts with
 *   (CREATE TABLE ... PARTITION OF would take ACCESS EXCLUSIVE). It also locks the DEFAULT partition
 *   exclusively to check it, which only a writer of a row that has no partition would notice.
 * - DETACH PARTITION CONCURRENTLY is refused when the table has a DEFAULT partition, so an expired
 *   partition is detached with a plain DETACH, whose ACCESS EXCLUSIVE lock on the parent is held
 *   for a catalog update only (milliseconds), then dropped in a transaction of its own, once it is
 *   no partition and nobody can be using it: deleting its files locks only itself.
 * - Every step runs with a short lock_timeout: a step that would wait behind a long transaction (a
 *   checkpoint, a dashboard query) gives up after `lockTimeoutMs` and is retried later, so a writer
 *   queued behind it waits at most that long, and never fails.
 */

export type PartitionUnit = 'day' | 'week' | 'month';

export interface PartitionedTable {
  readonly table: string;
  /** The partition key: the row's time. */
  readonly key: string;
  readonly unit: PartitionUnit;
}

export const PARTITIONED_TABLES: readonly PartitionedTable[] = Object.freeze([
  { table: 'user_metrics', key: 'window_start', unit: 'day' },
  { table: 'visitor_presence', key: 'bucket_start', unit: 'day' },
  { table: 'site_stats_minute', key: 'bucket_start', unit: 'day' },
  { table: 'user_sessions', key: 'session_start', unit: 'week' },
  { table: 'site_stats_hour', key: 'bucket_start', unit: 'month' },
  { table: 'site_stats_day', key: 'bucket_start', unit: 'month' },
  { table: 'site_window_totals', key: 'window_start', unit: 'month' },
]);

/** Periods that exist after the current one: at least 7 days ahead whatever the unit. */
export const PERIODS_AHEAD: Readonly<Record<PartitionUnit, number>> = Object.freeze({ day: 7, week: 2, month: 2 });

const DAY_MS = 86_400_000;
/** Periods outside years 1900..9999 get no partition of their own (rows there stay in DEFAULT). */
const EARLIEST = Date.UTC(1900, 0, 1);
const LATEST = Date.UTC(9999, 0, 1);
// Any 64-bit constant, as text ("clkpart"): one maintenance run at a time across all instances.
const MAINTENANCE_LOCK = '27985231448539508';

/** Start of the UTC day, ISO week (Monday) or month holding `ms`. */
export function periodStart(unit: PartitionUnit, ms: number): number {
  const d = new Date(ms);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (unit === 'day') return day;
  if (unit === 'week') return day - ((d.getUTCDay() + 6) % 7) * DAY_MS;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Start of the period after the one starting at `start`. */
export function nextPeriod(unit: PartitionUnit, start: number): number {
  if (unit === 'day') return start + DAY_MS;
  if (unit === 'week') return start + 7 * DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** `<table>_p<YYYYMMDD>` of the period's first day. */
export function partitionName(table: string, start: number): string {
  return `${table}_p${new Date(start).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

export interface PartitionInfo {
  name: string;
  isDefault: boolean;
  /** Bounds of a range partition, ms since the epoch; undefined for DEFAULT (or MINVALUE/MAXVALUE). */
  from?: number;
  to?: number;
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The partitions of `table`, oldest first, DEFAULT last. */
export async function listPartitions(client: Pick<pg.ClientBase, 'query'>, table: string): Promise<PartitionInfo[]> {
  // The bounds print as timestamptz literals in this session's settings, so this session parses
  // them back (TimeZone and DateStyle need not be anything in particular).
  const { rows } = await client.query<{ name: string; is_default: boolean; from_ms: number | null; to_ms: number | null }>(
    `SELECT c.relname AS name, b.bound = 'DEFAULT' AS is_default,
            (extract(epoch FROM r.m[1]::timestamptz) * 1000)::float8 AS from_ms,
            (extract(epoch FROM r.m[2]::timestamptz) * 1000)::float8 AS to_ms
       FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
      CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) b
      CROSS JOIN LATERAL (SELECT regexp_match(b.bound, '^FOR VALUES FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)$') AS m) r
      WHERE i.inhparent = $1::regclass
      ORDER BY is_default, from_ms`,
    [table],
  );
  return rows.map((r) => ({
    name: r.name,
    isDefault: r.is_default,
    ...(r.from_ms !== null && r.to_ms !== null ? { from: r.from_ms, to: r.to_ms } : {}),
  }));
}

export interface PartitionMaintenanceOptions {
  /** Partitions wholly older than this many days are dropped (RETENTION_DAYS). */
  retentionDays: number;
  /**
   * Partitions exist from this many days back (RAW_RETENTION_DAYS: no older event can still be
   * read from the raw topic, so no older window can be written but by a device clock far off).
   */
  behindDays?: number;
  /** The clock, for tests. */
  now?: number;
  tables?: readonly PartitionedTable[];
  /** lock_timeout of each step (default 200 ms): the longest a writer can be held up by one. */
  lockTimeoutMs?: number;
  /** Tries per step before it is left for the next run (default 30). */
  attempts?: number;
  /** Pause between tries (default 2 s). */
  retryDelayMs?: number;
  /** Called after a step gave up on a lock, before it is tried again. */
  onLockTimeout?: (step: string) => void | Promise<void>;
}

export interface PartitionMaintenanceResult {
  /** False when another process was running maintenance (nothing was done). */
  ran: boolean;
  created: string[];
  dropped: string[];
  /** Rows moved from a DEFAULT partition into a partition created for them. */
  movedFromDefault: number;
  /** Rows past the retention deleted from a DEFAULT partition. */
  deletedFromDefault: number;
  /** Steps that gave up on a lock and were tried again. */
  lockTimeouts: number;
  /** Steps left for the next run, after `attempts` lock timeouts each. */
  postponed: string[];
}

class Postponed extends Error {}

/**
 * One maintenance run over every partitioned table, on a connection of its own (the caller's,
 * not in a transaction; it must not be shared while this runs): creates the partitions from
 * `behindDays` back to PERIODS_AHEAD ahead, gives rows that landed in a DEFAULT partition a
 * partition of their own (or deletes them when past the retention), and detaches and drops the
 * partitions that end more than `retentionDays` ago. Only one process runs it at a time
 * (pg_try_advisory_lock); the others return `ran: false` at once.
 */
export async function maintainPartitions(client: pg.ClientBase, options: PartitionMaintenanceOptions): Promise<PartitionMaintenanceResult> {
  const result: PartitionMaintenanceResult = { ran: false, created: [], dropped: [], movedFromDefault: 0, deletedFromDefault: 0, lockTimeouts: 0, postponed: [] };
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [MAINTENANCE_LOCK]);
  if (!rows[0]?.locked) return result;
  result.ran = true;
  try {
    for (const spec of options.tables ?? PARTITIONED_TABLES) await maintainTable(client, spec, options, result);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MAINTENANCE_LOCK]).catch(() => {});
  }
  return result;
}

async function maintainTable(client: pg.ClientBase, spec: PartitionedTable, options: PartitionMaintenanceOptions, result: PartitionMaintenanceResult): Promise<void> {
  const now = options.now ?? Date.now();
  const cutoff = now - options.retentionDays * DAY_MS;
  const lockTimeoutMs = options.lockTimeoutMs ?? 200;
  const attempts = options.attempts ?? 30;
  const retryDelayMs = options.retryDelayMs ?? 2000;
  const { table, key, unit } = spec;

  /** Runs `body` in a transaction with the lock timeout, trying again after a lock timeout. */
  const step = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
        const value = await body();
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        const code = (error as { code?: string }).code;
        // lock_not_available (lock_timeout), deadlock_detected: someone else holds the table.
        if (code !== '55P03' && code !== '40P01') throw error;
        if (attempt >= attempts) {
          result.postponed.push(name);
          throw new Postponed(name);
        }
        result.lockTimeouts++;
        await options.onLockTimeout?.(name);
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      }
    }
  };
  /** A step that may be left for the next run without stopping the rest. */
  const tryStep = async (name: string, body: () => Promise<unknown>): Promise<boolean> => {
    try {
      await step(name, body);
      return true;
    } catch (error) {
      if (error instanceof Postponed) return false;
      throw error;
    }
  };

  // Partitions left detached by a run that died between detaching and dropping one.
  const orphans = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c
      WHERE c.relkind = 'r' AND NOT c.relispartition AND c.relname ~ ('^' || $2 || '_p[0-9]{8}$')
        AND c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = $1::regclass)`,
    [table, table],
  );
  for (const { name } of orphans.rows) {
    if (await tryStep(`drop ${name}`, () => client.query(`DROP TABLE ${ident(name)}`))) result.dropped.push(name);
  }

  let partitions = await listPartitions(client, table);
  const defaultPartition = partitions.find((p) => p.isDefault)?.name;

  const wanted = new Set<number>();
  if (defaultPartition) {
    // Rows that had no partition: past the retention they go, as a dropped partition's would.
    await tryStep(`delete expired rows of ${defaultPartition}`, async () => {
      const deleted = await client.query(`DELETE FROM ${ident(defaultPartition)} WHERE ${ident(key)} < $1`, [new Date(cutoff).toISOString()]);
      result.deletedFromDefault += deleted.rowCount ?? 0;
    });
    // The others get a partition of their period.
    const held = await client.query<{ period: number }>(
      `SELECT DISTINCT (extract(epoch FROM date_trunc($1, ${ident(key)} AT TIME ZONE 'UTC')) * 1000)::float8 AS period
         FROM ${ident(defaultPartition)} WHERE ${ident(key)} >= $2 AND isfinite(${ident(key)})`,
      [unit, new Date(cutoff).toISOString()],
    );
    for (const { period } of held.rows) if (period >= EARLIEST && period < LATEST) wanted.add(period);
  }
  const first = periodStart(unit, now - Math.max(0, options.behindDays ?? 0) * DAY_MS);
  let last = periodStart(unit, now);
  for (let i = 0; i < PERIODS_AHEAD[unit]; i++) last = nextPeriod(unit, last);
  for (let p = first; p <= last; p = nextPeriod(unit, p)) wanted.add(p);

  for (const from of [...wanted].sort((a, b) => a - b)) {
    const to = nextPeriod(unit, from);
    if (to <= cutoff) continue; // would be dropped at once
    if (partitions.some((p) => p.from !== undefined && p.to !== undefined && p.from < to && p.to > from)) continue;
    const name = partitionName(table, from);
    const created = await tryStep(`create ${name}`, async () => {
      await client.query(`CREATE TABLE ${ident(name)} (LIKE ${ident(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)`);
      if (defaultPartition) {
        // ATTACH checks that DEFAULT holds no row of the new range; rows that landed there move first.
        const moved = await client.query(
          `WITH moved AS (DELETE FROM ${ident(defaultPartition)} WHERE ${ident(key)} >= $1 AND ${ident(key)} < $2 RETURNING *)
           INSERT INTO ${ident(name)} SELECT * FROM moved`,
          [new Date(from).toISOString(), new Date(to).toISOString()],
        );
        result.movedFromDefault += moved.rowCount ?? 0;
      }
      await client.query(
        `ALTER TABLE ${ident(table)} ATTACH PARTITION ${ident(name)} FOR VALUES FROM ('${new Date(from).toISOString()}') TO ('${new Date(to).toISOString()}')`,
      );
    });
    if (created) result.created.push(name);
  }

  partitions = await listPartitions(client, table);
  for (const partition of partitions) {
    if (partition.to === undefined || partition.to > cutoff) continue;
    const { name } = partition;
    if (!(await tryStep(`detach ${name}`, () => client.query(`ALTER TABLE ${ident(table)} DETACH PARTITION ${ident(name)}`)))) continue;
    // Detached, it is a table nobody reads or writes any more; if this fails, the next run drops it.
    if (await tryStep(`drop ${name}`, () => client.query(`DROP TABLE ${ident(name)}`))) result.dropped.push(name);
  }
}
