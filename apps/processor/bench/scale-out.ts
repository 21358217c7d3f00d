import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { freePort, serviceCommand } from '@clickstream/local-infra';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** user + system CPU seconds of a process, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/**
 * The drain with `instances` processor processes in one consumer group (the deployment's
 * scale-out), timed from their start until every event is checkpointed and every outbox entry
 * delivered and trimmed - rebalancing and state hand-over included.
 */
export async function drainScaledOut(
  brokers: readonly string[],
  databaseUrl: string,
  prefix: string,
  total: number,
  instances: number,
): Promise<{ eventsPerSecond: number; cpuMicrosPerEvent: number }> {
  const group = `${prefix}scaled-${instances}`;
  const children: ChildProcess[] = [];
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const started = Date.now();
  try {
    for (let i = 0; i < instances; i++) {
      const command = serviceCommand('processor');
      const child = spawn(process.execPath, command.args, {
        cwd: command.cwd,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: {
          ...process.env,
          KAFKA_BROKERS: brokers.join(','),
          DATABASE_URL: databaseUrl,
          TOPIC_PREFIX: prefix,
          PROCESSOR_GROUP: group,
          PROCESSOR_METRICS_PORT: String(await freePort()),
          IDLE_TIMEOUT_MS: '3600000',
        },
      });
      children.push(child);
    }
    for (;;) {
      await sleep(250);
      for (const child of children) if (child.exitCode !== null) throw new Error(`a processor exited with ${child.exitCode}`);
      const { rows } = await db.query<{ done: string | null; outbox: string }>(
        `SELECT (SELECT sum(greatest(next_offset, 0)) FROM processor_partitions WHERE consumer_group = $1) AS done,
                (SELECT count(*) FROM processor_outbox WHERE consumer_group = $1) AS outbox`,
        [group],
      );
      if (Number(rows[0]!.done ?? 0) >= total && Number(rows[0]!.outbox) === 0) break;
    }
    const seconds = (Date.now() - started) / 1000;
    const cpu = children.reduce((sum, child) => sum + cpuSeconds(child.pid), 0);
    return { eventsPerSecond: total / seconds, cpuMicrosPerEvent: (cpu * 1e6) / total };
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => (child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)))));
    await db.end();
  }
}
