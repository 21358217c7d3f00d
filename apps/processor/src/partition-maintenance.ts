import pg from 'pg';
import { maintainPartitions, type PartitionMaintenanceOptions, type PartitionMaintenanceResult } from '@clickstream/db';

export interface PartitionMaintenanceLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface PartitionMaintenance {
  /** The run in flight (or the last one): its result, undefined if it failed or another process ran it. */
  readonly current: Promise<PartitionMaintenanceResult | undefined>;
  stop(): Promise<void>;
}

export const PARTITION_MAINTENANCE_INTERVAL_MS = 3_600_000;

/**
 * Bounded storage (README, "Storage"): at start and every hour, creates the result tables'
 * partitions ahead and drops those past RETENTION_DAYS (packages/db/src/partitions.ts), on a
 * connection of its own. With several processor instances, one runs it at a time (an advisory
 * lock); the others skip that turn. A failed run (database down) is logged and tried again at the
 * next turn: writes never depend on it, since partitions exist days ahead and the DEFAULT
 * partition takes any row that has none.
 */
export function startPartitionMaintenance(
  config: { databaseUrl: string; retentionDays: number; rawRetentionMs: number },
  log: PartitionMaintenanceLog,
  { intervalMs = PARTITION_MAINTENANCE_INTERVAL_MS, ...overrides }: Partial<PartitionMaintenanceOptions> & { intervalMs?: number } = {},
): PartitionMaintenance {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let client: pg.Client | undefined;

  const runOnce = async (): Promise<PartitionMaintenanceResult | undefined> => {
    client = new pg.Client({ connectionString: config.databaseUrl, application_name: 'clickstream-partitions' });
    client.on('error', () => {}); // a dropped connection fails the run's query, which is logged below
    try {
      await client.connect();
      const result = await maintainPartitions(client, {
        retentionDays: config.retentionDays,
        behindDays: Math.min(config.retentionDays, Math.ceil(config.rawRetentionMs / 86_400_000)),
        ...overrides,
      });
      if (result.created.length > 0 || result.dropped.length > 0 || result.movedFromDefault > 0 || result.deletedFromDefault > 0) {
        log.info(
          `partitions: created ${result.created.length} (${result.created.join(', ') || '-'}), ` +
            `dropped ${result.dropped.length} past RETENTION_DAYS=${config.retentionDays} (${result.dropped.join(', ') || '-'}), ` +
            `rows moved out of DEFAULT ${result.movedFromDefault}, expired rows deleted from DEFAULT ${result.deletedFromDefault}`,
        );
      }
      if (result.postponed.length > 0) log.warn(`partitions: left for the next run, tables busy: ${result.postponed.join(', ')}`);
      return result.ran ? result : undefined;
    } catch (error) {
      if (!stopped) log.warn(`partition maintenance failed (${(error as Error).message}); next try in ${Math.round(intervalMs / 60_000)} min`);
      return undefined;
    } finally {
      await client.end().catch(() => {});
      client = undefined;
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      handle.current = runOnce().finally(schedule);
    }, intervalMs);
    timer.unref();
  };

  const handle = {
    current: runOnce().finally(schedule),
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      // A run waits out lock timeouts between its steps; ending its connection cuts it short.
      await client?.end().catch(() => {});
      await handle.current.catch(() => undefined);
    },
  };
  return handle;
}
