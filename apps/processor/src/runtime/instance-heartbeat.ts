import { hostname } from 'node:os';
import type pg from 'pg';
import type { InstanceFreshness } from './freshness.js';

/**
 * Publishes this instance's freshness to PostgreSQL every few seconds (table processor_instances),
 * where the dashboard's GET /api/v1/pipeline reads every live instance. Outside any checkpoint
 * transaction: a lost heartbeat costs nothing but a stale figure.
 */
export class InstanceHeartbeat {
  readonly instanceId = `${hostname()}:${process.pid}:${Date.now().toString(36)}`;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly consumerGroup: string,
    private readonly read: () => Promise<{ partitions: number[]; freshness: InstanceFreshness }>,
    private readonly intervalMs = 2000,
  ) {}

  start(): void {
    const beat = async () => {
      try {
        const { partitions, freshness } = await this.read();
        await this.pool.query(
          `INSERT INTO processor_instances (instance_id, consumer_group, partitions, freshness, updated_at)
           VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (instance_id) DO UPDATE SET partitions = $3, freshness = $4, updated_at = now()`,
          [this.instanceId, this.consumerGroup, partitions, JSON.stringify(freshness)],
        );
      } catch {
        // The next beat tries again; the dashboard shows the figure's age meanwhile.
      }
      this.timer = setTimeout(() => void beat(), this.intervalMs);
      this.timer.unref();
    };
    void beat();
  }

  /** Leaves the list at once rather than going stale. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.pool.query('DELETE FROM processor_instances WHERE instance_id = $1', [this.instanceId]).catch(() => {});
  }
}
