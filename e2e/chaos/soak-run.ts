/**
 * The soak run behind `pnpm soak` (scripts/soak.ts): the whole platform under steady traffic for a
 * long time (not in CI), to see that nothing grows without bound. Every 10 s it samples each
 * service's RSS and event-loop delay (p99, from its /metrics), the processor group's consumer lag,
 * user_metrics rows and the database size into a CSV, and renders a PNG plot of them (SVG drawn
 * here, rasterised by Chromium). Options: --minutes 30  --rate <events/s> | half-peak (default)
 * --interval 10 (s). With half-peak, a ramp first finds the platform's peak on this machine: the
 * offered rate rises by 30 % every 20 s until the collector stops acknowledging what is offered
 * or the processor's lag keeps growing; the soak then runs at half the last rate that kept up.
 * Output: test-results/soak/soak-<time>.{csv,svg,png}.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, ensureChromium, freePort, repoRoot } from '@clickstream/local-infra';
import { startPrivateInfra } from './infra.js';
import { Service } from './services.js';
import { Traffic } from './traffic.js';
import { renderChart, type Series } from './chart.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, rate: { type: 'string', default: 'half-peak' }, interval: { type: 'string', default: '10' } } });
const minutes = Number(values.minutes);
const findPeak = values.rate === 'half-peak';
let rate = findPeak ? 1000 : Number(values.rate);
if (!findPeak && !(rate > 0)) throw new Error(`--rate must be a number of events/s or half-peak, not ${values.rate}`);
const intervalMs = Number(values.interval) * 1000;
const log = (m: string) => process.stderr.write(`[soak] ${m}\n`);
const GROUP = 'soak-processor';

function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 102.4) / 10 : NaN;
  } catch {
    return NaN;
  }
}

async function loopDelayMs(metricsUrl: string): Promise<number> {
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(3000) })).text();
    const match = /^\w*eventloop_lag_p99_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text);
    return match ? Math.round(Number(match[1]) * 10_000) / 10 : NaN;
  } catch {
    return NaN;
  }
}

// The plot is rasterised by Chromium at the end: install it now, not after a 30-minute run.
ensureChromium(log);
log(`starting a private broker and PostgreSQL; ${minutes} min at ${findPeak ? 'half the measured peak' : `${rate} events/s`}`);
const infra = await startPrivateInfra({ log });
const [collectorPort, processorPort, dashboardPort] = [await freePort(), await freePort(), await freePort()];
const env: NodeJS.ProcessEnv = {
  ...process.env,
  KAFKA_BROKERS: infra.brokers.join(','),
  DATABASE_URL: infra.databaseUrl,
  TOPIC_PREFIX: infra.prefix,
  PROCESSOR_GROUP: GROUP,
  COLLECTOR_PORT: String(collectorPort),
  COLLECTOR_HOST: '127.0.0.1',
  RATE_LIMIT_PER_MIN: '100000000',
  PROCESSOR_METRICS_PORT: String(processorPort),
  DASHBOARD_PORT: String(dashboardPort),
  API_TOKEN: 'soak-token-not-a-secret-0123456789',
};
const services = {
  collector: new Service('collector', `http://127.0.0.1:${collectorPort}/healthz`, env),
  processor: new Service('processor', `http://127.0.0.1:${processorPort}/healthz`, env),
  dashboard: new Service('dashboard', `http://127.0.0.1:${dashboardPort}/healthz`, env),
};
const all = Object.values(services);
let stopping = false;
async function shutdown(code: number): Promise<never> {
  stopping = true;
  await Promise.all(all.map((s) => s.stop().catch(() => {})));
  await infra.stop();
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(130));
// A failed run must not leave its private broker and database running.
process.on('uncaughtException', (error) => {
  log(`soak failed: ${error.stack ?? error.message}`);
  void shutdown(1);
});
process.on('SIGTERM', () => void shutdown(143));

for (const s of all) s.start();
await Promise.all(all.map((s) => s.waitHealthy()));
const metricsUrl = {
  collector: `http://127.0.0.1:${collectorPort}/metrics`,
  processor: `http://127.0.0.1:${processorPort}/metrics`,
  dashboard: `http://127.0.0.1:${dashboardPort}/metrics`,
};
// Event time follows the wall clock, as with real browsers.
const traffic = new Traffic({
  seed: 1,
  collectorUrl: `http://127.0.0.1:${collectorPort}`,
  baseTime: Date.now() - 155_000,
  eventsPerSec: rate,
  stepMs: 1000 / rate,
  concurrency: 16,
  users: 20_000,
  recordIds: false,
});
const admin = new Kafka({ brokers: infra.brokers, logLevel: logLevel.NOTHING }).admin();
await admin.connect();
const db = new pg.Pool({ connectionString: infra.databaseUrl, max: 1 });
db.on('error', () => {});

const columns = ['elapsed_s', 'acked', 'collector_rss_mb', 'processor_rss_mb', 'dashboard_rss_mb', 'collector_loop_p99_ms', 'processor_loop_p99_ms', 'dashboard_loop_p99_ms', 'consumer_lag', 'user_metrics_rows', 'state_log_rows', 'outbox_entries', 'database_mb'] as const;
type Row = Record<(typeof columns)[number], number>;
const rows: Row[] = [];
const out = join(repoRoot, 'test-results', 'soak');
mkdirSync(out, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const csvFile = join(out, `soak-${stamp}.csv`);
writeFileSync(csvFile, `${columns.join(',')}\n`);

async function consumerLag(): Promise<number> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(infra.topics.clicks), admin.fetchOffsets({ groupId: GROUP, topics: [infra.topics.clicks] })]);
  const at = new Map(committed[0]!.partitions.map((p) => [p.partition, Number(p.offset)]));
  return ends.reduce((sum, e) => sum + Math.max(0, Number(e.high) - Math.max(0, at.get(e.partition) ?? 0)), 0);
}

/** One number from the database; NaN while it is unreachable, so a sample is never lost. */
async function countRows(sql: string): Promise<number> {
  try {
    const { rows } = await db.query<{ n: string | number }>(sql);
    return Number(rows[0]!.n);
  } catch {
    return NaN;
  }
}

/**
 * Raises the offered rate by 30 % every step until the platform stops keeping up - the collector
 * acknowledges under 90% of what is offered, or the processor's lag grows by more than 3 s of
 * traffic within the step - and returns the acknowledged rate of the last step that kept up.
 */
async function measurePeak(): Promise<number> {
  const stepMs = 20_000;
  let best = 0;
  for (let offered = rate; ; offered = Math.round(offered * 1.3)) {
    traffic.setRate(offered);
    const ackedAtStart = traffic.acknowledgedCount;
    const lagAtStart = await consumerLag().catch(() => 0);
    const stepStarted = Date.now();
    await sleep(stepMs);
    const acked = (traffic.acknowledgedCount - ackedAtStart) / ((Date.now() - stepStarted) / 1000);
    const lagGrowth = (await consumerLag().catch(() => Infinity)) - lagAtStart;
    const keptUp = acked >= 0.9 * offered && lagGrowth < acked * 3;
    log(`ramp: offered ${offered} events/s, acknowledged ${Math.round(acked)}/s, processor lag ${lagGrowth >= 0 ? '+' : ''}${lagGrowth}${keptUp ? '' : ' - past the peak'}`);
    traffic.throwIfFailed();
    if (!keptUp) return best > 0 ? best : acked;
    best = acked;
  }
}

async function sample(elapsedS: number): Promise<Row> {
  const [cl, pl, dl, lag, metricRows, stateRows, outboxRows, bytes] = await Promise.all([
    loopDelayMs(metricsUrl.collector),
    loopDelayMs(metricsUrl.processor),
    loopDelayMs(metricsUrl.dashboard),
    consumerLag().catch(() => NaN),
    countRows('SELECT count(*)::int AS n FROM user_metrics'),
    countRows('SELECT count(*)::int AS n FROM processor_state_log'),
    countRows('SELECT count(*)::int AS n FROM processor_outbox'),
    countRows('SELECT pg_database_size(current_database())::bigint AS n'),
  ]);
  return {
    elapsed_s: elapsedS,
    acked: traffic.acknowledgedCount,
    collector_rss_mb: rssMb(services.collector.pid),
    processor_rss_mb: rssMb(services.processor.pid),
    dashboard_rss_mb: rssMb(services.dashboard.pid),
    collector_loop_p99_ms: cl,
    processor_loop_p99_ms: pl,
    dashboard_loop_p99_ms: dl,
    consumer_lag: lag,
    user_metrics_rows: metricRows,
    state_log_rows: stateRows,
    outbox_entries: outboxRows,
    database_mb: Math.round(bytes / 104_857.6) / 10,
  };
}

traffic.start();
let peak: number | undefined;
if (findPeak) {
  peak = await measurePeak();
  rate = Math.round(peak / 2);
  traffic.setRate(rate);
  log(`peak ${Math.round(peak)} events/s; soaking at half: ${rate} events/s, once the ramp's backlog is drained`);
  // The ramp's last steps left a backlog; the soak's figures start once it is worked off.
  const drainDeadline = Date.now() + 5 * 60_000;
  while (!stopping && (await consumerLag().catch(() => Infinity)) > rate * 2) {
    if (Date.now() > drainDeadline) throw new Error(`the processor did not work off the ramp's backlog within 5 minutes at ${rate} events/s`);
    await sleep(2000);
  }
}
const started = Date.now();
const ackedBefore = traffic.acknowledgedCount;
while (!stopping && Date.now() - started < minutes * 60_000) {
  await sleep(intervalMs - ((Date.now() - started) % intervalMs));
  const row = await sample(Math.round((Date.now() - started) / 1000));
  rows.push(row);
  writeFileSync(csvFile, `${columns.map((c) => row[c]).join(',')}\n`, { flag: 'a' });
  log(columns.map((c) => `${c}=${row[c]}`).join(' '));
  traffic.throwIfFailed();
}
await traffic.stop();

const x = rows.map((r) => r.elapsed_s);
const series = (key: keyof Row, label: string, scale = 1): Series => ({ label, x, y: rows.map((r) => r[key] / scale) });
const peakNote = peak ? ` (half the measured peak of ${Math.round(peak)})` : '';
const svg = renderChart(`clickstream soak: ${minutes} min at ${rate} events/s${peakNote}`, [
  { title: 'RSS (MB)', series: [series('collector_rss_mb', 'collector'), series('processor_rss_mb', 'processor'), series('dashboard_rss_mb', 'dashboard')] },
  { title: 'event-loop delay p99 (ms)', series: [series('collector_loop_p99_ms', 'collector'), series('processor_loop_p99_ms', 'processor'), series('dashboard_loop_p99_ms', 'dashboard')] },
  { title: 'consumer lag (records)', series: [series('consumer_lag', 'processor group')] },
  { title: 'processor state in PostgreSQL (rows)', series: [series('state_log_rows', 'checkpoint state log'), series('outbox_entries', 'outbox entries')] },
  { title: 'results and database size', series: [series('user_metrics_rows', 'user_metrics rows ÷ 100', 100), series('database_mb', 'database MB')] },
]);
const svgFile = csvFile.replace(/\.csv$/, '.svg');
const pngFile = csvFile.replace(/\.csv$/, '.png');
writeFileSync(svgFile, svg);
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
await page.locator('svg').screenshot({ path: pngFile });
await browser.close();
await admin.disconnect();
await db.end();
const first = rows[0];
const last = rows[rows.length - 1];
if (first && last) {
  log(`RSS MB collector ${first.collector_rss_mb} → ${last.collector_rss_mb}, processor ${first.processor_rss_mb} → ${last.processor_rss_mb}, dashboard ${first.dashboard_rss_mb} → ${last.dashboard_rss_mb}`);
  log(`consumer lag ${first.consumer_lag} → ${last.consumer_lag}, max ${Math.max(...rows.map((r) => r.consumer_lag).filter(Number.isFinite))}; user_metrics rows ${first.user_metrics_rows} → ${last.user_metrics_rows}`);
  log(`acknowledged during the soak ${last.acked - ackedBefore} (${Math.round((last.acked - ackedBefore) / (minutes * 60))} events/s)${peakNote}; 503s ${traffic.stats.status503}, 429s ${traffic.stats.status429}`);
}
log(`wrote ${csvFile}, ${svgFile}, ${pngFile}`);
await shutdown(0);
