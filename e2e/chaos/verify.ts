/**
 * The end-of-run check: the expected windows come from the independent reference, replayed over
 * the real website-clicks log (each partition in offset order, so it sees the same watermarks and
 * the same too-late decisions as the processor); every acknowledged id must be in that log.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { TopicNames, VisitDeletionMarker, VisitResult, WindowResult } from '@clickstream/shared';
import { compareSiteAggregatesWithReference, compareVisitsWithReference, compareWithReference } from '@clickstream/reconcile/comparison';
import { referenceKey, referenceWindows, toReferenceEvents, type ReferenceOutput } from '@clickstream/reconcile/reference-model';
import { readSiteAggregates, readUserMetrics, readUserSessions } from '@clickstream/reconcile';
import { readTopicLog, sentinelEvent } from '@clickstream/local-infra/testing';

export const OPERATOR = { outOfOrdernessMs: 2000, allowedLatenessMs: 60_000 };

export interface LogReference {
  reference: ReferenceOutput;
  /** Acknowledged ids that are nowhere in website-clicks. */
  lost: string[];
  /** Ids in the log that never got a 202 (sent while a collector died); they count, as they should. */
  unacknowledgedInLog: number;
  /** Records in the log that carry an id already seen (retries); the windows dedupe them. */
  duplicateLogRecords: number;
  logRecords: number;
}

/** One sentinel per partition far ahead in event time: every partition's watermark passes every real window. */
export async function produceSentinels(brokers: string[], topic: string, eventTime: number): Promise<number> {
  const kafka = new Kafka({ brokers, clientId: 'chaos-sentinel', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const partitions = (await admin.fetchTopicOffsets(topic)).length;
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: partitions }, (_, partition) => {
        const sentinel = sentinelEvent(partition, eventTime);
        return { partition, key: sentinel.userId, value: JSON.stringify(sentinel) };
      }),
    });
  } finally {
    await producer.disconnect();
  }
  return partitions;
}

export async function referenceFromLog(brokers: string[], topics: TopicNames, acknowledged: ReadonlySet<string>): Promise<LogReference> {
  const logs = toReferenceEvents(await readTopicLog(brokers, topics.clicks, { readUncommitted: true }));
  const seen = new Set<string>();
  let duplicateLogRecords = 0;
  let unacknowledgedInLog = 0;
  let logRecords = 0;
  for (const event of logs.flat()) {
    if (event.siteId === 'sentinel') continue;
    logRecords += 1;
    if (seen.has(event.id)) duplicateLogRecords += 1;
    else if (!acknowledged.has(event.id)) unacknowledgedInLog += 1;
    seen.add(event.id);
  }
  const lost = [...acknowledged].filter((id) => !seen.has(id));
  return { reference: referenceWindows(logs, OPERATOR), lost, unacknowledgedInLog, duplicateLogRecords, logRecords };
}

export interface SinkCheck {
  problems: string[];
  windowsExpected: number;
  windowsInPostgres: number;
  eventsExpected: number;
  /** Events counted beyond the reference (a window holding more than it should, or one that should not exist). */
  doubleCounted: number;
  /** Events the reference counts that user_metrics does not. */
  undercounted: number;
  /** read_committed user-metrics records whose (site, user, window, revision) came more than once. */
  duplicateTopicRecords: number;
  topicRecords: number;
  lateEvents: number;
  visitsExpected: number;
  visitsInPostgres: number;
}

export async function checkSinks(brokers: string[], topics: TopicNames, databaseUrl: string, reference: ReferenceOutput): Promise<SinkCheck> {
  const rows = await readUserMetrics(databaseUrl);
  const records = (await readTopicLog(brokers, topics.metrics)).flat().map((m) => JSON.parse(m.value) as WindowResult);
  const late = (await readTopicLog(brokers, topics.late)).flat().map((m) => (JSON.parse(m.value) as { id: string }).id);
  const visitRows = await readUserSessions(databaseUrl);
  const visitRecords = (await readTopicLog(brokers, topics.sessions)).flat().map((m) => JSON.parse(m.value) as VisitResult | VisitDeletionMarker);
  let doubleCounted = 0;
  let undercounted = 0;
  let eventsExpected = 0;
  for (const [key, expected] of reference.windows) {
    eventsExpected += expected.events;
    const diff = (rows.get(key)?.events ?? 0) - expected.events;
    if (diff > 0) doubleCounted += diff;
    else undercounted -= diff;
  }
  for (const [key, row] of rows) if (!reference.windows.has(key)) doubleCounted += row.events;
  const seen = new Set<string>();
  let duplicateTopicRecords = 0;
  for (const r of records) {
    if (r.siteId === 'sentinel') continue;
    const key = `${referenceKey(r.siteId, r.userId, r.windowStart)}|${r.revision}`;
    if (seen.has(key)) duplicateTopicRecords += 1;
    seen.add(key);
  }
  return {
    problems: [
      ...compareWithReference(reference, rows, records, late),
      ...compareVisitsWithReference(reference, visitRows, visitRecords),
      ...compareSiteAggregatesWithReference(reference, await readSiteAggregates(databaseUrl)),
    ],
    windowsExpected: reference.windows.size,
    windowsInPostgres: rows.size,
    eventsExpected,
    doubleCounted,
    undercounted,
    duplicateTopicRecords,
    topicRecords: records.filter((r) => r.siteId !== 'sentinel').length,
    lateEvents: late.length,
    visitsExpected: reference.visits.size,
    visitsInPostgres: visitRows.size,
  };
}
