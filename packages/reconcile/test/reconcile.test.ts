/**
 * The audit against a real processor on the real broker and database: a generated stream
 * (duplicates, retries across window boundaries, late and too-late events, engagement, bots)
 * goes through an in-process processor whose idle watermark follows the wall clock, then
 * stragglers arrive that only that wall-clock watermark makes too late. The audit must agree;
 * then it must find exactly the rows we corrupt, and replay an erasure.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { recordErasure } from '@clickstream/db';
import { createTestDatabase, createTestTopics, generateStream, produceStream, readTopicLog, testBrokers, testScope, uniqueId, waitFor } from '@clickstream/local-infra/testing';
import { parseProcessorConfig, Processor } from '@clickstream/processor';
import type { EnrichedEvent, VisitDeletionMarker, WindowDeletionMarker } from '@clickstream/shared';
import { CHECKS, latestReconcileRuns, reconcile, type ReconcileOptions, type ReconcileSummary } from '../src/index.js';
import { runCli } from '../src/cli.js';

const OPERATOR = { outOfOrdernessMs: 2000, allowedLatenessMs: 60_000, retryHorizonMs: 30_000, sessionGapMs: 20_000, countBots: false };
const SITES = ['shop', 'blog', 'docs'];
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const differencesOf = (s: ReconcileSummary) => CHECKS.map((c) => [c, s.checks[c].different, s.checks[c].missing, s.checks[c].extra] as const).filter(([, d, m, e]) => d + m + e > 0);
const sum = (summaries: ReconcileSummary[], check: (typeof CHECKS)[number], field: 'matching' | 'different' | 'missing' | 'extra') =>
  summaries.reduce((n, s) => n + s.checks[check][field], 0);

/** The CLI as a user runs it, in a child process; resolves with its exit code and output. */
function runScript(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/reconcile.ts', ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('reconcile agrees with a live processor, reports exactly the rows corrupted, and replays an erasure', async (context) => {
  const t = testScope(context);
  const brokers = testBrokers();
  const { prefix, topics } = await createTestTopics(t);
  const databaseUrl = await createTestDatabase(t);
  const group = uniqueId('reconcile-');
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  t.after(() => db.end());

  // The stream lies inside one UTC hour, 10 minutes after its start, so the range [hour, hour + 1 h)
  // holds every minute, quarter and hour bucket it touches.
  const hour = Math.floor((Date.now() - 3 * 3_600_000) / 3_600_000) * 3_600_000;
  const baseTime = hour + 600_000;
  const events = generateStream({ seed: 1207, events: 5000, users: 120, spanMs: 900_000, baseTime });
  await produceStream(brokers, topics.clicks, events, 6, { sentinels: false });

  const processor = new Processor(
    parseProcessorConfig({
      KAFKA_BROKERS: brokers.join(','),
      DATABASE_URL: databaseUrl,
      TOPIC_PREFIX: prefix,
      PROCESSOR_GROUP: group,
      CHECKPOINT_INTERVAL_MS: '200',
      OUT_OF_ORDERNESS_MS: '2000',
      ALLOWED_LATENESS_MS: '60000',
      RETRY_HORIZON_MS: '30000',
      SESSION_GAP_MS: '20000',
      // As deployed: an idle partition's watermark follows the wall clock.
      IDLE_TIMEOUT_MS: '1000',
    }),
    { log: () => {} },
  );
  await processor.start();
  t.after(() => processor.stop());
  const settle = async (what: string) => {
    await waitFor(what, async () => processor.ownedPartitions.length === 6 && processor.idle && Object.values(await processor.consumerLag()).every((lag) => lag === 0), {
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    await waitFor('the outbox to drain', async () => (await db.query('SELECT count(*)::int AS n FROM processor_outbox')).rows[0].n === 0, { timeoutMs: 60_000, intervalMs: 200 });
  };
  await settle('the processor to checkpoint the stream');
  await waitFor(
    'every partition watermark to follow the wall clock',
    async () => {
      const { rows } = await db.query(`SELECT (watermark->>'watermark')::float8 AS w FROM processor_partitions WHERE consumer_group = $1`, [group]);
      return rows.length === 6 && rows.every((r) => r.w > Date.now() - 600_000);
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );

  // Stragglers: by the log's own watermark within allowed lateness, so a replay of the log alone
  // would count them; the live watermark (wall clock) made them too late.
  const lastTime = Math.max(...events.map((e) => e.eventTime));
  const stragglers: EnrichedEvent[] = events
    .filter((e) => !e.isBot && e.siteId !== 'sentinel')
    .slice(-8)
    .map((e, i) => ({ ...e, id: `straggler-${i}-${e.userId}`, type: 'click', eventTime: lastTime - 500, ts: lastTime - 500, receivedAt: lastTime - 500 }));
  await produceStream(brokers, topics.clicks, stragglers, 6, { sentinels: false });
  await settle('the processor to take the stragglers');

  const options: ReconcileOptions = {
    brokers,
    databaseUrl,
    topics,
    processorGroup: group,
    operator: OPERATOR,
    sites: SITES,
    from: hour,
    to: hour + 3_600_000,
    waitMs: 60_000,
  };
  const progress: string[] = [];
  const clean = await reconcile({ ...options, progress: (line) => progress.push(line) });
  assert.deepEqual(clean.summaries.flatMap(differencesOf), [], clean.text);
  assert.ok(clean.ok, clean.text);
  assert.equal(clean.summaries.length, 3);
  assert.ok(sum(clean.summaries, 'user_metrics', 'matching') > 1000, clean.text);
  assert.ok(sum(clean.summaries, 'user-metrics', 'matching') > 1000, clean.text);
  assert.ok(sum(clean.summaries, 'user_sessions', 'matching') > 50, clean.text);
  assert.ok(sum(clean.summaries, 'user-sessions', 'matching') > 50, clean.text);
  for (const check of ['site_stats_minute', 'site_stats_hour', 'visitor_presence'] as const) assert.ok(sum(clean.summaries, check, 'matching') > 0, `${check} compared\n${clean.text}`);
  const lateChecked = sum(clean.summaries, 'website-clicks-late', 'matching');
  assert.ok(lateChecked > 4000, `every id of the range checked against the late topic (${lateChecked})`);
  assert.ok(clean.summaries[0]!.read.lateIds >= stragglers.length + 50, `the late topic was read (${clean.summaries[0]!.read.lateIds} ids)`);
  assert.equal(clean.summaries.reduce((n, s) => n + s.notCompared.windows + s.notCompared.visits + s.notCompared.buckets, 0), 0, 'everything in the range is final');
  assert.ok(progress.some((l) => /reading .*website-clicks: [\d,]+ \/ [\d,]+ records/.test(l)), `progress shown: ${progress.join(' | ')}`);

  // Without the late topic the log's own watermark would count the stragglers: the live watermark matters.
  const declared = new Set(await readLateIds(brokers, topics.late));
  assert.ok(stragglers.every((s) => declared.has(s.id)), 'the processor declared every straggler late');

  // The CLI, in-process: same answer, exit 0.
  const out: string[] = [];
  const env = { KAFKA_BROKERS: brokers.join(','), DATABASE_URL: databaseUrl, TOPIC_PREFIX: prefix, PROCESSOR_GROUP: group, SESSION_GAP_MS: '20000' };
  const code = await runCli(['--site', SITES.join(','), '--from', new Date(hour).toISOString(), '--to', String(hour + 3_600_000), '--no-store'], env, { out: (s) => out.push(s), err: () => {} });
  assert.equal(code, 0, out.join(''));
  assert.match(out.join(''), /result: everything matches/);

  // Corrupt one window and one minute rollup row of the site shop.
  const window = (await db.query(`SELECT user_id, window_start FROM user_metrics WHERE site_id = 'shop' AND events > 0 ORDER BY window_start, user_id LIMIT 1`)).rows[0];
  const minute = (await db.query(`SELECT bucket_start, dimension, value FROM site_stats_minute WHERE site_id = 'shop' AND dimension = 'event:page' ORDER BY bucket_start, value LIMIT 1`)).rows[0];
  await db.query(`UPDATE user_metrics SET events = events + 1 WHERE site_id = 'shop' AND user_id = $1 AND window_start = $2`, [window.user_id, window.window_start]);
  await db.query(`UPDATE site_stats_minute SET events = events + 1 WHERE site_id = 'shop' AND bucket_start = $1 AND dimension = $2 AND value = $3`, [minute.bucket_start, minute.dimension, minute.value]);
  const corrupted = await reconcile(options);
  assert.equal(corrupted.ok, false);
  const shop = corrupted.summaries.find((s) => s.siteId === 'shop')!;
  assert.deepEqual(differencesOf(shop), [
    ['user_metrics', 1, 0, 0],
    ['site_stats_minute', 1, 0, 0],
  ]);
  assert.match(shop.checks.user_metrics.examples.different[0]!, new RegExp(`shop\\|${window.user_id}\\|${(window.window_start as Date).toISOString()}: events = \\d+, expected \\d+`));
  assert.match(shop.checks.site_stats_minute.examples.different[0]!, new RegExp(`${(minute.bucket_start as Date).toISOString()}\\|event:page\\|`));
  assert.deepEqual(corrupted.summaries.filter((s) => s.siteId !== 'shop').flatMap(differencesOf), []);
  const script = await runScript(['--site', 'shop', '--from', new Date(hour).toISOString(), '--to', new Date(hour + 3_600_000).toISOString(), '--no-store'], env);
  assert.equal(script.code, 1, script.stdout + script.stderr);
  assert.match(script.stdout, /user_metrics: 1 different, e\.g\./);
  assert.match(script.stdout, /site_stats_minute: 1 different, e\.g\./);
  await db.query(`UPDATE user_metrics SET events = events - 1 WHERE site_id = 'shop' AND user_id = $1 AND window_start = $2`, [window.user_id, window.window_start]);
  await db.query(`UPDATE site_stats_minute SET events = events - 1 WHERE site_id = 'shop' AND bucket_start = $1 AND dimension = $2 AND value = $3`, [minute.bucket_start, minute.dimension, minute.value]);

  // An erasure, with its deletion markers on the topics as the dashboard sends them.
  const erased = window.user_id as string;
  const windowsBefore = Number((await db.query(`SELECT count(*) FROM user_metrics WHERE site_id = 'shop' AND user_id = $1`, [erased])).rows[0].count);
  assert.ok(windowsBefore > 0);
  await recordErasure(db, erased, 'shop');
  const { rows: log } = await db.query(`SELECT seq, window_starts, session_starts FROM user_erasures WHERE site_id = 'shop' AND user_id = $1`, [erased]);
  await sendMarkers(brokers, topics, erased, log[0].window_starts, log[0].session_starts);
  await db.query('UPDATE user_erasures SET markers_sent = true WHERE seq = $1', [log[0].seq]);
  const afterErasure = await reconcile(options);
  assert.deepEqual(afterErasure.summaries.flatMap(differencesOf), [], afterErasure.text);
  const shopAfter = afterErasure.summaries.find((s) => s.siteId === 'shop')!;
  assert.equal(shopAfter.read.erasures, 1);
  assert.ok(shopAfter.read.erasedEvents > 0);
  const shopBefore = clean.summaries.find((s) => s.siteId === 'shop')!;
  assert.equal(shopAfter.checks.user_metrics.matching, shopBefore.checks.user_metrics.matching - windowsBefore, 'the erased user\'s windows are no longer expected');
  assert.equal(shopAfter.checks.site_stats_minute.matching, shopBefore.checks.site_stats_minute.matching, 'site aggregates keep the erased user\'s counts');

  // The newest result per site is in reconcile_runs for the dashboard.
  const runs = await latestReconcileRuns(db);
  assert.deepEqual(runs.map((r) => r.siteId).sort(), [...SITES].sort());
  const latestShop = (await latestReconcileRuns(db, 'shop'))[0]!;
  assert.equal(latestShop.ok, true);
  assert.equal(latestShop.rangeFrom, new Date(hour).toISOString());
  assert.equal(latestShop.summary.read.erasures, 1);
  assert.equal(latestShop.summary.checks.user_metrics.matching, shopAfter.checks.user_metrics.matching);
  const stored = Number((await db.query(`SELECT count(*) FROM reconcile_runs WHERE NOT ok`)).rows[0].count);
  assert.equal(stored, 1, 'the corrupted run was stored as failed for shop (one row per site and run)');
});

async function readLateIds(brokers: string[], topic: string): Promise<string[]> {
  return (await readTopicLog(brokers, topic)).flat().map((m) => (JSON.parse(m.value) as { id: string }).id);
}

async function sendMarkers(brokers: string[], topics: { metrics: string; sessions: string }, userId: string, windows: Date[], visits: Date[]): Promise<void> {
  const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const w = windows.map((d): WindowDeletionMarker => ({ deleted: true, siteId: 'shop', userId, windowStart: d.toISOString() }));
    const v = visits.map((d): VisitDeletionMarker => ({ deleted: true, siteId: 'shop', userId, sessionStart: d.toISOString() }));
    await producer.sendBatch({
      acks: -1,
      topicMessages: [
        { topic: topics.metrics, messages: w.map((m) => ({ key: userId, value: JSON.stringify(m) })) },
        { topic: topics.sessions, messages: v.map((m) => ({ key: userId, value: JSON.stringify(m) })) },
      ].filter((t) => t.messages.length > 0),
    });
  } finally {
    await producer.disconnect();
  }
}
