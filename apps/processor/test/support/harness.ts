import { spawn, type ChildProcess } from 'node:child_process';
import { serviceCommand } from '@clickstream/local-infra';
import type { VisitDeletionMarker, VisitResult, WindowDeletionMarker, WindowResult } from '@clickstream/shared';
import { compareSiteAggregatesWithReference, compareVisitsWithReference, compareWithReference } from '@clickstream/reconcile/comparison';
import { referenceWindows, toReferenceEvents, type ReferenceOutput } from '@clickstream/reconcile/reference-model';
import { readSiteAggregates, readTopicLog, readUserMetrics, readUserSessions } from './stream.js';
import type { TopicNames } from '@clickstream/shared';

/** Visits end after 20 s here, so streams of a minute or two hold many visits, merges and final ones. */
export const OPERATOR_ENV = {
  OUT_OF_ORDERNESS_MS: '2000',
  ALLOWED_LATENESS_MS: '60000',
  IDLE_TIMEOUT_MS: '3600000',
  RETRY_HORIZON_MS: '30000',
  SESSION_GAP_MS: '20000',
};

export async function referenceFor(brokers: string[], topics: TopicNames): Promise<ReferenceOutput> {
  const log = await readTopicLog(brokers, topics.clicks, { readUncommitted: true });
  return referenceWindows(toReferenceEvents(log), { outOfOrdernessMs: 2000, allowedLatenessMs: 60_000, retryHorizonMs: 30_000, sessionGapMs: 20_000 });
}

/** Reads both sinks (the topics read_committed) and lists every difference from the reference. */
export async function sinkProblems(brokers: string[], topics: TopicNames, databaseUrl: string, reference: ReferenceOutput): Promise<string[]> {
  const rows = await readUserMetrics(databaseUrl);
  const metrics = (await readTopicLog(brokers, topics.metrics)).flat().map((m) => JSON.parse(m.value) as WindowResult | WindowDeletionMarker);
  const late = (await readTopicLog(brokers, topics.late)).flat().map((m) => (JSON.parse(m.value) as { id: string }).id);
  const sessions = (await readTopicLog(brokers, topics.sessions)).flat().map((m) => JSON.parse(m.value) as VisitResult | VisitDeletionMarker);
  return [
    ...compareWithReference(reference, rows, metrics, late),
    ...compareVisitsWithReference(reference, await readUserSessions(databaseUrl), sessions),
    ...compareSiteAggregatesWithReference(reference, await readSiteAggregates(databaseUrl)),
  ];
}

/** Quick check used while waiting: PostgreSQL holds every reference window with its final numbers. */
export async function postgresMatches(databaseUrl: string, reference: ReferenceOutput): Promise<boolean> {
  const rows = await readUserMetrics(databaseUrl);
  if (rows.size !== reference.windows.size) return false;
  for (const [key, expected] of reference.windows) {
    const row = rows.get(key);
    if (!row || row.events !== expected.events || row.clicks !== expected.clicks || row.engagedMs !== expected.engagedMs) return false;
  }
  return true;
}

/** Whether the processor group's outbox has been fully delivered to Kafka for every partition. */
export async function outboxDrained(databaseUrl: string): Promise<boolean> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT count(*)::int AS n FROM processor_outbox');
    return rows[0].n === 0;
  } finally {
    await client.end();
  }
}

export interface ProcessorProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** The real processor binary as a child process, so it can be SIGKILLed like in production. */
export function spawnProcessor(env: Record<string, string>): ProcessorProcess {
  let output = '';
  const command = serviceCommand('processor');
  const child = spawn(process.execPath, command.args, {
    cwd: command.cwd,
    env: { ...process.env, PROCESSOR_METRICS_PORT: '0', KAFKA_SESSION_TIMEOUT_MS: '6000', CHECKPOINT_INTERVAL_MS: '200', ...OPERATOR_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}
