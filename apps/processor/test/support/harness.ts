import { spawn, type ChildProcess } from 'node:child_process';
import { serviceCommand } from '@clickstream/local-infra';
import { readTopicLog } from '@clickstream/local-infra/testing';
import { readSiteAggregates, readUserMetrics, readUserSessions } from '@clickstream/reconcile';
import { compareSiteAggregatesWithReference, compareVisitsWithReference, compareWithReference } from '@clickstream/reconcile/comparison';
import { referenceWindows, toReferenceEvents, type ReferenceOutput } from '@clickstream/reconcile/reference-model';
import type { TopicNames, VisitDeletionMarker, VisitResult, WindowDeletionMarker, WindowResult } from '@clickstream/shared';

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

// Shared with the chaos run: waiting for PostgreSQL to match the reference, and for the outbox.
export { postgresMatches } from '@clickstream/reconcile';
export { outboxDrained } from '@clickstream/local-infra/testing';

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
