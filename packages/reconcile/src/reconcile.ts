/**
 * The exactness audit (contract, "Exactness audit"): re-reads the raw events of a range from
 * website-clicks, recomputes windows, visits and site aggregates with the reference model, and
 * compares them with the processor's tables and topics. It reads only, with consumers and
 * transactions of its own, so it can run against a live deployment at any time; its one write is
 * its result, in reconcile_runs.
 *
 * Reading starts SESSION_GAP_MS + ALLOWED_LATENESS_MS + a margin before `from` (by record
 * timestamp, which is never earlier than an event's eventTime), so the replay's watermarks,
 * dedup memory and visits are warm when the range begins, and stops at the end offsets read at
 * the start. The audit then waits until the processor has checkpointed past those offsets, and
 * compares what is final: windows, visits and buckets inside the range whose partition's
 * watermark passed their end + ALLOWED_LATENESS_MS (visits: end + gap + lateness).
 */
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { migrate } from '@clickstream/db';
import { WINDOW_SIZE_MS, type TopicNames, type VisitDeletionMarker, type VisitResult, type WindowDeletionMarker, type WindowResult } from '@clickstream/shared';
import {
  compareLateIds,
  comparePresence,
  compareSiteStats,
  compareVisitRecords,
  compareVisitRows,
  compareWindowRecords,
  compareWindowRows,
  type EngagementRule,
  type SiteStat,
} from './comparison.js';
import { planRange, readRanges, topicRetentionMs, type LogRecord } from './log-reader.js';
import { waitForProcessor } from './processor-progress.js';
import { referenceWindows, type ReferenceEvent, type ReferenceOutput } from './reference-model.js';
import { emptyChecks, formatSummary, summaryDifferences, type ReconcileSummary } from './report.js';
import { storeReconcileRun } from './run-store.js';
import type { OperatorSettings } from './settings.js';
import { PRESENCE_BUCKET_MS, readErasures, readSinks, SITE_STAT_TABLES, type ErasureEntry } from './sink-reader.js';

export interface ReconcileOptions {
  brokers: readonly string[];
  databaseUrl: string;
  topics: TopicNames;
  /** The processor's consumer group (PROCESSOR_GROUP). */
  processorGroup: string;
  operator: OperatorSettings;
  sites: readonly string[];
  /** Event-time range [from, to), ms. */
  from: number;
  to: number;
  /** Extra warm-up before from − SESSION_GAP_MS − ALLOWED_LATENESS_MS (clock skew between collectors). Default 60 s. */
  marginMs?: number;
  /** How long to wait for the processor to checkpoint past the audit's end offsets. Default 120 s. */
  waitMs?: number;
  /** Default 'at-most' (README, "Exactness audit"); 'exact' where the watermark never followed the wall clock. */
  engagement?: EngagementRule;
  /** Write the result to reconcile_runs. Default true. */
  store?: boolean;
  /** Example lines kept per kind of difference. Default 5. */
  examples?: number;
  /** Progress lines (about one a second on long reads). */
  progress?: (line: string) => void;
}

export interface ReconcileResult {
  ok: boolean;
  /** One per site. */
  summaries: ReconcileSummary[];
  text: string;
}

/** The range cannot be audited (older than the raw topic's retention): exit 2. */
export class ReconcileRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconcileRefused';
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const started = Date.now();
  const { topics, operator, sites, from, to } = options;
  if (!(from < to)) throw new RangeError(`the range is empty: from ${iso(from)} is not before to ${iso(to)}`);
  if (sites.length === 0) throw new RangeError('no site to audit');
  const progress = options.progress ?? (() => {});
  const marginMs = options.marginMs ?? 60_000;
  const engagement = options.engagement ?? 'at-most';
  const readFrom = from - operator.sessionGapMs - operator.allowedLatenessMs - marginMs;
  const siteSet = new Set(sites);

  const kafka = new Kafka({ brokers: [...options.brokers], clientId: 'clickstream-reconcile', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const db = new pg.Client({ connectionString: options.databaseUrl, application_name: 'clickstream-reconcile' });
  await admin.connect();
  try {
    if (options.store !== false) await migrate(options.databaseUrl);
    await db.connect();

    // 1. The raw events, from the warm-up point to the end offsets of now.
    const raw = await planRange(admin, topics.clicks, readFrom);
    const partitionCount = raw.partitions.reduce((n, p) => Math.max(n, p.partition + 1), 0);
    const firstRecordChecked = new Set<number>();
    for (const p of raw.partitions) {
      if (p.low === 0 || p.start !== p.low) continue;
      if (p.end > p.low) {
        firstRecordChecked.add(p.partition);
      } else {
        // Emptied by retention: whatever it held is older than the retention period.
        const retention = await topicRetentionMs(admin, topics.clicks);
        if (retention !== undefined && retention >= 0 && readFrom < Date.now() - retention) throw refused(topics.clicks, p.partition, undefined, readFrom, retention);
      }
    }
    const logs: ReferenceEvent[][] = Array.from({ length: partitionCount }, () => []);
    let unparsable = 0;
    const records = await readRanges(kafka, [raw], {
      clientLabel: 'clickstream-reconcile',
      onProgress: (read, total) => progress(`reading ${topics.clicks}: ${read.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} records`),
      onRecord: (record: LogRecord) => {
        if (firstRecordChecked.has(record.partition) && record.offset === raw.partitions.find((p) => p.partition === record.partition)!.low && record.timestamp > readFrom) {
          throw refused(topics.clicks, record.partition, record.timestamp, readFrom, undefined);
        }
        try {
          logs[record.partition]!.push(JSON.parse(record.value) as ReferenceEvent);
        } catch {
          unparsable += 1;
        }
      },
    });
    if (unparsable > 0) progress(`${unparsable} records of ${topics.clicks} are not JSON; left out`);

    // 2. The processor must have checkpointed (and delivered) everything read.
    const ends = new Map(raw.partitions.map((p) => [p.partition, p.end]));
    const catchUp = await waitForProcessor(db, { group: options.processorGroup, topic: topics.clicks, ends, timeoutMs: options.waitMs ?? 120_000, onWait: progress });
    const summaries = (partial: Partial<ReconcileSummary> & Pick<ReconcileSummary, 'read'>) =>
      sites.map<ReconcileSummary>((siteId) => ({
        version: 1,
        siteId,
        range: { from: iso(from), to: iso(to) },
        ok: false,
        checks: emptyChecks(),
        engagedBelowReference: { windows: 0, ms: 0 },
        notCompared: { windows: 0, visits: 0, buckets: 0 },
        settings: { ...operator, engagement },
        startedAt: iso(started),
        finishedAt: iso(Date.now()),
        ...partial,
      }));
    const read = { records, fromTimestamp: iso(readFrom), partitions: partitionCount, erasures: 0, erasedEvents: 0, lateIds: 0 };
    if (!catchUp.caughtUp) {
      const error = `the processor (group ${options.processorGroup}) has not checkpointed the events read within ${Math.round((options.waitMs ?? 120_000) / 1000)} s: ${catchUp.behind.slice(0, 5).join(', ')}`;
      return await finish(db, options, summaries({ error, read }));
    }
    const watermarkFloor = Array.from({ length: partitionCount }, (_, p) => {
      const at = catchUp.progress.get(p);
      // Only where the checkpoint is exactly at the audit's end: its watermark then reflects the
      // events read and the wall clock, nothing later.
      return at && at.nextOffset === ends.get(p) ? at.watermark : Number.NEGATIVE_INFINITY;
    });

    // 3. What the processor declared late, and its two topics, from the same warm-up point.
    const outputs = await Promise.all([topics.late, topics.metrics, topics.sessions].map((t) => planRange(admin, t, readFrom)));
    const lateIds = new Set<string>();
    const windowRecords: Array<WindowResult | WindowDeletionMarker> = [];
    const visitRecords: Array<VisitResult | VisitDeletionMarker> = [];
    await readRanges(kafka, outputs, {
      clientLabel: 'clickstream-reconcile',
      onProgress: (n, total) => progress(`reading ${topics.late}, ${topics.metrics}, ${topics.sessions}: ${n.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} records`),
      onRecord: (record) => {
        let value: { id?: string; siteId?: string };
        try {
          value = JSON.parse(record.value) as { id?: string; siteId?: string };
        } catch {
          return;
        }
        if (record.topic === topics.late) {
          if (typeof value.id === 'string') lateIds.add(value.id);
        } else if (value.siteId !== undefined && siteSet.has(value.siteId)) {
          if (record.topic === topics.metrics) windowRecords.push(value as WindowResult | WindowDeletionMarker);
          else visitRecords.push(value as VisitResult | VisitDeletionMarker);
        }
      },
    });

    // 4. The erasure log and the tables.
    const erasures = await readErasures(db, sites);
    const sinks = await readSinks(db, sites, from, to);

    // 5. The reference, and (only when an erasure dropped events) the site aggregates without it.
    const settings = { ...operator, sizeMs: WINDOW_SIZE_MS, declaredLate: lateIds, watermarkFloor, erasures };
    const reference = referenceWindows(logs, settings);
    const upper = reference.erasedEvents > 0 ? referenceWindows(logs, { ...settings, erasures: [] }).siteStats : undefined;
    read.erasures = erasures.length;
    read.erasedEvents = reference.erasedEvents;
    read.lateIds = lateIds.size;

    // 6. Compare, site by site.
    const out = sites.map((siteId) => compareSite(siteId, { options, reference, upper, sinks, logs, lateIds, windowRecords, visitRecords, erasures, engagement }));
    return await finish(
      db,
      options,
      summaries({ read }).map((base, i) => ({ ...base, ...out[i]!, finishedAt: iso(Date.now()) })),
    );
  } finally {
    await admin.disconnect().catch(() => {});
    await db.end().catch(() => {});
  }
}

function refused(topic: string, partition: number, earliest: number | undefined, needed: number, retentionMs: number | undefined): ReconcileRefused {
  const held = earliest !== undefined ? `its partition ${partition} now starts at ${iso(earliest)}` : `its partition ${partition} was emptied by retention (retention.ms ${retentionMs})`;
  return new ReconcileRefused(
    `the range is older than ${topic}'s retention: ${held}, but the audit needs the events from ${iso(needed)} ` +
      `(from − SESSION_GAP_MS − ALLOWED_LATENESS_MS − margin); choose a later --from`,
  );
}

async function finish(db: pg.Client, options: ReconcileOptions, summaries: ReconcileSummary[]): Promise<ReconcileResult> {
  for (const s of summaries) s.ok = !s.error && summaryDifferences(s) === 0;
  if (options.store !== false) for (const s of summaries) await storeReconcileRun(db, s);
  return { ok: summaries.every((s) => s.ok), summaries, text: summaries.map(formatSummary).join('\n\n') };
}

interface SiteInputs {
  options: ReconcileOptions;
  reference: ReferenceOutput;
  upper: Map<string, SiteStat> | undefined;
  sinks: Awaited<ReturnType<typeof readSinks>>;
  logs: ReferenceEvent[][];
  lateIds: ReadonlySet<string>;
  windowRecords: ReadonlyArray<WindowResult | WindowDeletionMarker>;
  visitRecords: ReadonlyArray<VisitResult | VisitDeletionMarker>;
  erasures: readonly ErasureEntry[];
  engagement: EngagementRule;
}

function compareSite(siteId: string, inputs: SiteInputs): Pick<ReconcileSummary, 'checks' | 'engagedBelowReference' | 'notCompared'> {
  const { options, reference, sinks, engagement } = inputs;
  const { from, to, operator } = options;
  const limit = options.examples ?? 5;
  const lateness = operator.allowedLatenessMs;
  const known = reference.watermarks.filter((w) => Number.isFinite(w));
  const lowest = known.length > 0 ? Math.min(...known) : Number.NEGATIVE_INFINITY;
  const watermarkOf = (userId: string) => {
    const partition = reference.partitionOf.get(`${siteId}|${userId}`);
    return partition === undefined ? lowest : (reference.watermarks[partition] ?? lowest);
  };
  const notCompared = { windows: 0, visits: 0, buckets: 0 };
  const checks = emptyChecks();

  // Windows: inside the range and final (no late event can change them any more).
  const counted = new Set<string>();
  const windowInScope = (w: { siteId: string; userId: string; windowStart: string }) => {
    if (w.siteId !== siteId) return false;
    const start = Date.parse(w.windowStart);
    if (start < from || start + WINDOW_SIZE_MS > to) return false;
    if (start + WINDOW_SIZE_MS + lateness <= watermarkOf(w.userId)) return true;
    const key = `${w.userId}|${w.windowStart}`;
    if (!counted.has(key)) {
      counted.add(key);
      notCompared.windows += 1;
    }
    return false;
  };
  const rows = compareWindowRows('user_metrics', reference.windows, sinks.windows, { inScope: windowInScope, engagement, limit });
  checks.user_metrics = rows.tally;
  const erasedAt = new Map<string, ErasureEntry>();
  for (const e of inputs.erasures) {
    const before = erasedAt.get(`${e.siteId}|${e.userId}`);
    if (!before || e.erasedAt >= before.erasedAt) erasedAt.set(`${e.siteId}|${e.userId}`, e);
  }
  const markersPending = (siteOf: string, userId: string, start: string) => {
    const e = erasedAt.get(`${siteOf}|${userId}`);
    return e !== undefined && !e.markersSent && Date.parse(start) <= e.erasedAt;
  };
  checks['user-metrics'] = compareWindowRecords('user-metrics', reference.windows, recordsOf(inputs.windowRecords, siteId), sinks.windows, {
    inScope: windowInScope,
    engagement,
    limit,
    pendingDeletion: (w) => markersPending(w.siteId, w.userId, w.windowStart),
  });

  // Visits starting inside the range, once final (closed); open ones may still grow.
  const seenVisits = new Set<string>();
  const visitInScope = (v: { siteId: string; userId: string; sessionStart: string; open?: boolean }) => {
    if (v.siteId !== siteId) return false;
    const start = Date.parse(v.sessionStart);
    if (start < from || start >= to) return false;
    if (!v.open) return true;
    const key = `${v.userId}|${v.sessionStart}`;
    if (!seenVisits.has(key)) {
      seenVisits.add(key);
      notCompared.visits += 1;
    }
    return false;
  };
  checks.user_sessions = compareVisitRows('user_sessions', reference.visits, sinks.visits, { inScope: visitInScope, limit });
  checks['user-sessions'] = compareVisitRecords('user-sessions', reference.visits, recordsOf(inputs.visitRecords, siteId), sinks.visits, {
    inScope: visitInScope,
    limit,
    pendingDeletion: (v) => markersPending(v.siteId, v.userId, v.sessionStart),
  });

  // Rollup and presence buckets fully inside the range, final on every partition.
  const seenBuckets = new Set<string>();
  const bucketInScope = (key: string, sizeMs: number, startIndex: number) => {
    const parts = key.split('|');
    if (parts[startIndex - 1] !== siteId) return false;
    const start = Date.parse(parts[startIndex]!);
    if (start < from || start + sizeMs > to) return false;
    if (start + sizeMs + lateness <= lowest) return true;
    if (!seenBuckets.has(key)) {
      seenBuckets.add(key);
      notCompared.buckets += 1;
    }
    return false;
  };
  for (const [table, sizeMs] of SITE_STAT_TABLES) {
    checks[table] = compareSiteStats(table, reference.siteStats, sinks.siteStats, {
      inScope: (key) => key.startsWith(`${table}|`) && bucketInScope(key, sizeMs, 2),
      upper: inputs.upper,
      limit,
    });
  }
  checks.visitor_presence = comparePresence('visitor_presence', reference.presence, sinks.presence, { inScope: (key) => bucketInScope(key, PRESENCE_BUCKET_MS, 1), limit });

  // Every id of the range: counted in a window xor on the late topic.
  const ids: string[] = [];
  const seenIds = new Set<string>();
  for (const log of inputs.logs) {
    for (const event of log) {
      if (seenIds.has(event.id)) continue;
      seenIds.add(event.id);
      if (event.siteId !== siteId || event.eventTime < from || event.eventTime >= to) continue;
      if (event.isBot && !operator.countBots) continue;
      const erasure = erasedAt.get(`${event.siteId}|${event.userId}`);
      if (erasure && event.eventTime <= erasure.erasedAt) continue;
      ids.push(event.id);
    }
  }
  checks['website-clicks-late'] = compareLateIds('event id', ids, { countedIds: reference.countedIds, lateIds: new Set(reference.lateEventIds) }, inputs.lateIds, limit);

  return { checks, engagedBelowReference: rows.engagedBelow, notCompared };
}

// The topic records are read once for every site; each comparison takes its site's.
const recordsOf = <R extends { siteId: string }>(records: readonly R[], siteId: string): R[] => records.filter((r) => r.siteId === siteId);
