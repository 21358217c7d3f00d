/**
 * One chaos run: the real collector and processor as child processes on a private broker and
 * PostgreSQL, seeded traffic, and a seeded scheduler that injects the faults in turn, waiting for
 * the platform to recover after each. At the end the pipeline drains and both sinks are compared
 * with the independent reference over the acknowledged events.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { freePort, waitFor } from '@clickstream/local-infra';
import { outboxDrained, seededRandom } from '@clickstream/local-infra/testing';
import { postgresMatches, reconcile } from '@clickstream/reconcile';
import { startPrivateInfra, type PrivateInfra } from './infra.js';
import { Service } from './services.js';
import { Traffic, type TrafficStats } from './traffic.js';
import { checkSinks, OPERATOR, produceSentinels, referenceFromLog, type SinkCheck } from './verify.js';

export const FAULT_KINDS = ['kill-processor', 'kill-collector', 'restart-kafka', 'restart-postgres', 'second-processor', 'add-partitions'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  seed: number;
  faults: number;
  kinds?: readonly FaultKind[];
  eventsPerSec?: number;
  /** Seeded pause between recovery and the next fault. */
  minGapMs?: number;
  maxGapMs?: number;
  /** At the end, run the exactness audit (`pnpm reconcile`) over the run's range and sites too. */
  reconcile?: boolean;
  log?: (message: string) => void;
}

export interface FaultRecord {
  kind: FaultKind;
  /** Since the start of traffic. */
  atMs: number;
  /** From the fault until every service is healthy, the collector acknowledges again and new windows reach user_metrics. */
  recoveryMs: number;
}

export interface ChaosReport extends Omit<SinkCheck, 'problems'> {
  seed: number;
  durationMs: number;
  acknowledged: number;
  lost: number;
  unacknowledgedInLog: number;
  duplicateLogRecords: number;
  logRecords: number;
  traffic: TrafficStats;
  faults: FaultRecord[];
  drained: boolean;
  /** The exactness audit over the run's event-time range and sites, when asked for. */
  reconcile?: { ok: boolean; from: string; to: string; text: string };
  problems: string[];
}

async function userMetricsRows(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM user_metrics');
    return rows[0]!.n;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const random = seededRandom(options.seed * 7919 + 1);
  const kinds = options.kinds ?? FAULT_KINDS;
  log('starting a private Kafka broker and PostgreSQL…');
  const infra: PrivateInfra = await startPrivateInfra({ log });
  const services: Service[] = [];
  try {
    const collectorPort = await freePort();
    const collectorUrl = `http://127.0.0.1:${collectorPort}`;
    const common: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'test',
      KAFKA_BROKERS: infra.brokers.join(','),
      DATABASE_URL: infra.databaseUrl,
      TOPIC_PREFIX: infra.prefix,
    };
    const collector = new Service('collector', `${collectorUrl}/healthz`, {
      ...common,
      COLLECTOR_PORT: String(collectorPort),
      COLLECTOR_HOST: '127.0.0.1',
      RATE_LIMIT_PER_MIN: '1000000',
    });
    const newProcessor = async (): Promise<Service> => {
      const port = await freePort();
      const processor = new Service('processor', `http://127.0.0.1:${port}/healthz`, {
        ...common,
        PROCESSOR_GROUP: 'chaos-processor',
        PROCESSOR_METRICS_PORT: String(port),
        OUT_OF_ORDERNESS_MS: String(OPERATOR.outOfOrdernessMs),
        ALLOWED_LATENESS_MS: String(OPERATOR.allowedLatenessMs),
        // Windows close by event time only, so the outcome does not depend on timing.
        IDLE_TIMEOUT_MS: '3600000',
        CHECKPOINT_INTERVAL_MS: '500',
        KAFKA_SESSION_TIMEOUT_MS: '6000',
      });
      services.push(processor);
      processor.start();
      return processor;
    };
    services.push(collector);
    collector.start();
    let processors = [await newProcessor()];
    await Promise.all([collector.waitHealthy(), processors[0]!.waitHealthy()]);

    const baseTime = Math.floor((Date.now() - 12 * 3_600_000) / 5000) * 5000;
    const traffic = new Traffic({
      seed: options.seed,
      collectorUrl,
      baseTime,
      eventsPerSec: options.eventsPerSec ?? 150,
    });
    const started = Date.now();
    traffic.start();
    const faults: FaultRecord[] = [];

    const inject = async (kind: FaultKind): Promise<void> => {
      switch (kind) {
        case 'kill-processor': {
          const victim = processors.shift()!;
          await victim.kill();
          processors.push(await newProcessor());
          return;
        }
        case 'kill-collector':
          await collector.kill();
          collector.start();
          return;
        case 'restart-kafka':
          return infra.restartKafka();
        case 'restart-postgres':
          return infra.restartPostgres();
        case 'second-processor': {
          const second = await newProcessor();
          await second.waitHealthy();
          // Let the group hand it partitions before the first one dies.
          await sleep(3000);
          const first = processors.shift()!;
          await first.kill();
          processors = [...processors, second];
          return;
        }
        case 'add-partitions': {
          // A quiet moment and a gap in event time longer than lateness: no user's window
          // straddles the change of key → partition mapping (ARCHITECTURE.md, Known limits).
          await traffic.pause();
          traffic.skipEventTime(300_000);
          const admin = new Kafka({ brokers: infra.brokers, logLevel: logLevel.NOTHING }).admin();
          await admin.connect();
          const count = (await admin.fetchTopicOffsets(infra.topics.clicks)).length;
          await admin.createPartitions({ topicPartitions: [{ topic: infra.topics.clicks, count: count + 2 }] });
          await admin.disconnect();
          // The collector must hash with the new count before traffic resumes: restart it.
          await collector.stop();
          collector.start();
          await collector.waitHealthy();
          traffic.resume();
          return;
        }
      }
    };

    await sleep(4000);
    for (let i = 0; i < options.faults; i++) {
      traffic.throwIfFailed();
      const kind = kinds[i % kinds.length]!;
      const gap = (options.minGapMs ?? 3000) + random() * ((options.maxGapMs ?? 8000) - (options.minGapMs ?? 3000));
      await sleep(gap);
      const at = Date.now();
      const rowsBefore = await userMetricsRows(infra.databaseUrl).catch(() => 0);
      log(`fault ${i + 1}/${options.faults}: ${kind}`);
      await inject(kind);
      await waitFor(
        `recovery from ${kind}`,
        async () => {
          traffic.throwIfFailed();
          if (traffic.lastAckAt <= at) return false;
          const health = await Promise.all([collector, ...processors].map((s) => s.healthy()));
          if (!health.every(Boolean)) return false;
          return (await userMetricsRows(infra.databaseUrl).catch(() => -1)) > rowsBefore;
        },
        { timeoutMs: 180_000, intervalMs: 200 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${[collector, ...processors].map((s) => `--- ${s.name}\n${s.output().slice(-3000)}`).join('\n')}`);
      });
      faults.push({ kind, atMs: at - started, recoveryMs: Date.now() - at });
      log(`  recovered in ${Date.now() - at} ms`);
    }

    await sleep(2000);
    await traffic.stop();
    const durationMs = Date.now() - started;
    log(`traffic stopped: ${traffic.acknowledged.size} events acknowledged; draining…`);
    await produceSentinels(infra.brokers, infra.topics.clicks, traffic.eventClock + 600_000);
    const logRef = await referenceFromLog(infra.brokers, infra.topics, traffic.acknowledged);
    const drained = await waitFor('user_metrics to hold the reference windows', () => postgresMatches(infra.databaseUrl, logRef.reference), {
      timeoutMs: 180_000,
      intervalMs: 500,
    })
      .then(() => waitFor('the outbox to drain', () => outboxDrained(infra.databaseUrl), { timeoutMs: 60_000, intervalMs: 250 }))
      .then(
        () => true,
        () => false,
      );
    const sinks = await checkSinks(infra.brokers, infra.topics, infra.databaseUrl, logRef.reference);
    const problems = [...(drained ? [] : ['the pipeline did not drain to the reference within 4 minutes']), ...sinks.problems];
    if (logRef.lost.length > 0) problems.unshift(`${logRef.lost.length} acknowledged events are not in website-clicks, e.g. ${logRef.lost.slice(0, 5).join(', ')}`);
    let audit: ChaosReport['reconcile'];
    if (options.reconcile) {
      // Whole minutes around the traffic's event time (sentinels closed everything in it).
      const from = Math.floor(baseTime / 60_000) * 60_000;
      const to = Math.ceil((traffic.eventClock + 1) / 60_000) * 60_000;
      log(`reconcile ${new Date(from).toISOString()} – ${new Date(to).toISOString()}…`);
      const result = await reconcile({
        brokers: infra.brokers,
        databaseUrl: infra.databaseUrl,
        topics: infra.topics,
        processorGroup: 'chaos-processor',
        operator: { ...OPERATOR, retryHorizonMs: 30_000, sessionGapMs: 1_800_000, countBots: false },
        sites: ['shop', 'blog', 'docs'],
        from,
        to,
        // IDLE_TIMEOUT_MS is an hour here: watermarks follow event time only, so engaged time is exact.
        engagement: 'exact',
        waitMs: 60_000,
      });
      audit = { ok: result.ok, from: new Date(from).toISOString(), to: new Date(to).toISOString(), text: result.text };
      if (!result.ok) problems.push(`pnpm reconcile disagrees:\n${result.text}`);
    }
    return {
      seed: options.seed,
      durationMs,
      acknowledged: traffic.acknowledged.size,
      lost: logRef.lost.length + sinks.undercounted,
      unacknowledgedInLog: logRef.unacknowledgedInLog,
      duplicateLogRecords: logRef.duplicateLogRecords,
      logRecords: logRef.logRecords,
      traffic: traffic.stats,
      faults,
      drained,
      ...sinks,
      reconcile: audit,
      problems,
    };
  } finally {
    await Promise.all(services.map((s) => s.stop().catch(() => {})));
    await infra.stop();
  }
}

/** The figures as a short text block, for the console and RELIABILITY.md. */
export function formatReport(report: ChaosReport): string {
  const recoveries = report.faults.map((f) => f.recoveryMs);
  const byKind = new Map<string, number[]>();
  for (const f of report.faults) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f.recoveryMs]);
  const lines = [
    `seed ${report.seed}, ${Math.round(report.durationMs / 1000)} s of traffic, ${report.faults.length} faults`,
    `events acknowledged (202):        ${report.acknowledged}`,
    `lost (acknowledged, not counted): ${report.lost}`,
    `double-counted:                   ${report.doubleCounted}`,
    `duplicate user-metrics records:   ${report.duplicateTopicRecords} (of ${report.topicRecords}, read_committed)`,
    `windows expected / in PostgreSQL: ${report.windowsExpected} / ${report.windowsInPostgres}`,
    `late events (website-clicks-late): ${report.lateEvents}`,
    `visits expected / in PostgreSQL: ${report.visitsExpected} / ${report.visitsInPostgres}`,
    `log records ${report.logRecords}, of which retried duplicates ${report.duplicateLogRecords}, unacknowledged ${report.unacknowledgedInLog}`,
    `requests ${report.traffic.requests}, 503s ${report.traffic.status503}, 429s ${report.traffic.status429}, connection errors ${report.traffic.networkErrors}, bodies re-sent ${report.traffic.resent}`,
    `recovery ms: min ${Math.min(...recoveries)}, median ${recoveries.sort((a, b) => a - b)[Math.floor(recoveries.length / 2)]}, max ${Math.max(...recoveries)}`,
    ...[...byKind].map(([kind, ms]) => `  ${kind.padEnd(18)} ${ms.join(', ')}`),
    ...(report.reconcile ? [`reconcile ${report.reconcile.from} – ${report.reconcile.to}: ${report.reconcile.ok ? 'agrees' : 'DISAGREES'}`] : []),
    `problems: ${report.problems.length === 0 ? 'none' : ''}`,
    ...report.problems.slice(0, 20).map((p) => `  ${p}`),
  ];
  return lines.join('\n');
}
