/**
 * `pnpm bench processor`: throughput, memory and latency of the exactly-once processor, each
 * against ceilings measured in the same run on the same data.
 *
 * For each scenario (see scenarios.ts), on a fresh database and topic:
 *   1. fill website-clicks with BENCH_EVENTS events of BENCH_USERS users;
 *   2. ceilings: a plain kafkajs consumer that reads and commits; the same consumer also
 *      JSON-parsing each event; PostgreSQL upserting as many result rows as the drain wrote;
 *   3. the processor (exactly-once on: PostgreSQL checkpoints + Kafka transactions) draining it,
 *      alone in a fresh process with its production node flags, then as BENCH_INSTANCES
 *      processes in one consumer group (scale-out).
 * Then live latency (BENCH_LIVE_SECONDS at BENCH_LIVE_RATE events/s), and with --soak <minutes>
 * (or BENCH_SOAK_MINUTES) a memory soak under live traffic at BENCH_SOAK_RATE events/s.
 *
 * `--scale 1,2,3` drains with each number of processes in one group (default BENCH_INSTANCES).
 * Env: BENCH_EVENTS (2000000), BENCH_USERS (50000), BENCH_SCENARIOS (active,sparse), BENCH_INSTANCES (2),
 *      BENCH_LIVE_SECONDS (60), BENCH_LIVE_RATE (2000), BENCH_SOAK_RATE (5000).
 */
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { ensureDatabase, migrate } from '@clickstream/db';
import { ensureTopics, serverUrlOf } from '@clickstream/local-infra';
import { topicNames } from '@clickstream/shared';
import { fill, scenarios, type Scenario } from './scenarios.js';
import { consumerRate, upsertRate } from './baselines.js';
import { drainInFreshProcess, type DrainFigures } from './drain.js';
import { latency, memorySoak } from './live.js';
import { drainScaledOut } from './scale-out.js';
import { measureStateMemory } from './state-memory.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const EVENTS = Number(process.env.BENCH_EVENTS ?? 2_000_000);
const USERS = Number(process.env.BENCH_USERS ?? 50_000);
const WANTED = (process.env.BENCH_SCENARIOS ?? 'active,sparse').split(',');
const scaleFlag = process.argv.indexOf('--scale');
/** Process counts to drain with in one consumer group (`--scale 1,2,3`); default BENCH_INSTANCES (2). */
const SCALE = (scaleFlag >= 0 ? process.argv[scaleFlag + 1]! : (process.env.BENCH_INSTANCES ?? '2'))
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n >= 1);
const INSTANCES = Math.max(...SCALE);
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 60);
const LIVE_RATE = Number(process.env.BENCH_LIVE_RATE ?? 2000);
const soakFlag = process.argv.indexOf('--soak');
const SOAK_MINUTES = Number(soakFlag >= 0 ? process.argv[soakFlag + 1] : (process.env.BENCH_SOAK_MINUTES ?? 0));
const SOAK_RATE = Number(process.env.BENCH_SOAK_RATE ?? 5000);
/** Also drain with SITE_ANALYTICS=false, the baseline of what visits and site aggregates cost (BENCH_WINDOWS_ONLY=0 skips it). */
const WINDOWS_ONLY_BASELINE = process.env.BENCH_WINDOWS_ONLY !== '0';

const run = `bench${Date.now().toString(36)}`;
const kafka = new Kafka({ brokers, clientId: 'processor-bench', logLevel: logLevel.NOTHING });
const say = (line: string) => process.stdout.write(`${line}\n`);
const serverUrl = serverUrlOf(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const createdTopics: string[] = [];
const MiB = 1024 * 1024;

/** A new, empty database per phase, so every run writes into tables of the same size. */
async function freshDatabase(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  const url = `${serverUrl}/${name}`;
  await ensureDatabase(url);
  await migrate(url);
  return url;
}

async function topicsFor(prefix: string) {
  const topics = topicNames(prefix);
  await ensureTopics(brokers, topics);
  createdTopics.push(...Object.values(topics));
  return topics;
}

interface ScenarioFigures {
  scenario: Scenario;
  consumer: number;
  parsingConsumer: number;
  upsertRowsPerSecond: number;
  drained: DrainFigures;
  /** The same drain with visits and site aggregates off: what the processor did before them. */
  windowsOnly?: DrainFigures;
  scaledOut?: { eventsPerSecond: number; cpuMicrosPerEvent: number };
  /** Events/s by number of processes in one group. */
  scale: Map<number, number>;
}

async function benchScenario(scenario: Scenario): Promise<ScenarioFigures> {
  say(`\n== ${scenario.name}: ${scenario.events.toLocaleString()} events, ${scenario.users.toLocaleString()} users; ${scenario.description}`);
  const prefix = `${run}-${scenario.name}-`;
  const topics = await topicsFor(prefix);
  const databaseUrl = await freshDatabase(`clickstream_bench_${scenario.name}`);
  await fill(kafka, topics.clicks, scenario, say);
  const consumer = await consumerRate(kafka, topics.clicks, scenario.events, `${prefix}plain`, false);
  say(`  plain kafkajs consumer (read + commit):        ${Math.round(consumer).toLocaleString()} events/s`);
  const parsingConsumer = await consumerRate(kafka, topics.clicks, scenario.events, `${prefix}parse`, true);
  say(`  same, also JSON.parse of each event:           ${Math.round(parsingConsumer).toLocaleString()} events/s`);
  let windowsOnly: DrainFigures | undefined;
  if (WINDOWS_ONLY_BASELINE) {
    windowsOnly = await drainInFreshProcess(brokers, await freshDatabase(`clickstream_bench_${scenario.name}_windows`), prefix, scenario.events, {
      SITE_ANALYTICS: 'false',
    });
    say(`  processor, windows only (SITE_ANALYTICS=false): ${Math.round(windowsOnly.eventsPerSecond).toLocaleString()} events/s, ${windowsOnly.cpuMicrosPerEvent.toFixed(1)} µs CPU per event`);
  }
  const drained = await drainInFreshProcess(brokers, databaseUrl, prefix, scenario.events);
  say(`  processor, exactly-once, PostgreSQL + Kafka:   ${Math.round(drained.eventsPerSecond).toLocaleString()} events/s (windows, visits, site aggregates)`);
  if (windowsOnly) say(`    ratio to windows only:                       ${(drained.eventsPerSecond / windowsOnly.eventsPerSecond).toFixed(2)}`);
  say(`    ratio to the plain consumer:                 ${(drained.eventsPerSecond / consumer).toFixed(2)}`);
  say(`    window results written:                      ${drained.windowsEmitted.toLocaleString()} (${(scenario.events / drained.windowsEmitted).toFixed(1)} events each)`);
  say(`    CPU of the processor process:                ${drained.cpuMicrosPerEvent.toFixed(1)} µs per event`);
  say(`    checkpoint duration (mean):                  ${drained.checkpointMeanMs.toFixed(0)} ms`);
  say(`    peak open windows:                           ${drained.peakWindows.toLocaleString()}`);
  say(`    RSS growth per 100,000 open windows:         ${((drained.rssBytesPerWindow * 100_000) / MiB).toFixed(1)} MiB`);
  say(`    live heap per 100,000 windows (after GC):    ${((drained.heapBytesPerWindow * 100_000) / MiB).toFixed(1)} MiB`);
  const upsertRowsPerSecond = await upsertRate(databaseUrl, Math.min(drained.windowsEmitted, 500_000));
  say(`  PostgreSQL alone, the same upsert statement:   ${Math.round(upsertRowsPerSecond).toLocaleString()} rows/s`);
  say(`    = ${Math.round((upsertRowsPerSecond * scenario.events) / drained.windowsEmitted).toLocaleString()} events/s at this scenario's events per result`);
  let scaledOut: ScenarioFigures['scaledOut'];
  const scale = new Map<number, number>();
  for (const instances of SCALE) {
    if (instances === 1 && SCALE.length === 1) continue;
    const figures = await drainScaledOut(brokers, await freshDatabase(`clickstream_bench_${scenario.name}_scaled${instances}`), prefix, scenario.events, instances);
    scale.set(instances, figures.eventsPerSecond);
    if (instances === INSTANCES) scaledOut = figures;
    say(
      `  ${instances} processor process(es), one consumer group: ${Math.round(figures.eventsPerSecond).toLocaleString()} events/s ` +
        `(ratio to the plain consumer ${(figures.eventsPerSecond / consumer).toFixed(2)}, to the PostgreSQL ceiling ` +
        `${(figures.eventsPerSecond / ((upsertRowsPerSecond * scenario.events) / drained.windowsEmitted)).toFixed(2)}), ${figures.cpuMicrosPerEvent.toFixed(1)} µs CPU per event`,
    );
  }
  return { scenario, consumer, parsingConsumer, upsertRowsPerSecond, drained, windowsOnly, scaledOut, scale };
}

say(`processor bench: ${run}, 6 partitions, Kafka ${brokers.join(',')}`);
for (const perWindow of [1, 5]) {
  const memory = measureStateMemory(100_000, perWindow);
  say(
    `state memory, ${perWindow} event(s) per window: ${Math.round(memory.bytesPerWindow)} B per held window with its ids ` +
      `(${((memory.bytesPerWindow * 100_000) / MiB).toFixed(1)} MiB per 100,000), ${Math.round(memory.bytesPerVisit)} B per visit, ` +
      `${Math.round(memory.bytesPerId)} B per event id`,
  );
}
const results: ScenarioFigures[] = [];
for (const scenario of scenarios(EVENTS, USERS).filter((s) => WANTED.includes(s.name))) results.push(await benchScenario(scenario));

if (LIVE_SECONDS > 0) {
  const prefix = `${run}-live-`;
  const topics = await topicsFor(prefix);
  const live = await latency(kafka, brokers, await freshDatabase('clickstream_bench_live'), prefix, topics, {
    seconds: LIVE_SECONDS,
    rate: LIVE_RATE,
    users: 5000,
  });
  say(`\n== live latency at ${LIVE_RATE} events/s for ${LIVE_SECONDS} s: watermark passed -> result readable (read_committed), ${live.windows} windows`);
  say(`  p50 ${live.p50} ms, p99 ${live.p99} ms, max ${live.max} ms`);
}

if (SOAK_MINUTES > 0) {
  const prefix = `${run}-soak-`;
  const topics = await topicsFor(prefix);
  say(`\n== memory soak: ${SOAK_MINUTES} min of live traffic at ${SOAK_RATE} events/s, 50,000 users`);
  const soak = await memorySoak(kafka, brokers, await freshDatabase('clickstream_bench_soak'), prefix, topics.clicks, {
    minutes: SOAK_MINUTES,
    rate: SOAK_RATE,
    users: 50_000,
    sampleSeconds: 10,
  }, say);
  const rss = soak.samples.map((s) => s.rssMiB);
  say(`  ${soak.produced.toLocaleString()} events; RSS ${Math.min(...rss).toFixed(0)}-${Math.max(...rss).toFixed(0)} MiB`);
  say(`  trend over the second half: RSS ${soak.rssSlopeMiBPerMinute.toFixed(2)} MiB/min, heap ${soak.heapSlopeMiBPerMinute.toFixed(2)} MiB/min`);
  say(`  max consumer lag ${Math.max(...soak.samples.map((s) => s.lag))}`);
}

if (results.length > 0) {
  say('\nsummary (events/s)            ' + results.map((r) => r.scenario.name.padStart(10)).join(''));
  const row = (label: string, pick: (r: ScenarioFigures) => string) => say(label.padEnd(30) + results.map((r) => pick(r).padStart(10)).join(''));
  row('plain consumer', (r) => Math.round(r.consumer).toLocaleString());
  row('consumer + JSON.parse', (r) => Math.round(r.parsingConsumer).toLocaleString());
  if (WINDOWS_ONLY_BASELINE) row('processor, windows only', (r) => Math.round(r.windowsOnly?.eventsPerSecond ?? Number.NaN).toLocaleString());
  row('processor, exactly-once', (r) => Math.round(r.drained.eventsPerSecond).toLocaleString());
  row('ratio to plain consumer', (r) => (r.drained.eventsPerSecond / r.consumer).toFixed(2));
  if (INSTANCES > 1) {
    row(`processor x${INSTANCES} processes`, (r) => Math.round(r.scaledOut?.eventsPerSecond ?? Number.NaN).toLocaleString());
    row('ratio to plain consumer', (r) => ((r.scaledOut?.eventsPerSecond ?? Number.NaN) / r.consumer).toFixed(2));
  }
  row('PostgreSQL upsert ceiling', (r) => Math.round((r.upsertRowsPerSecond * r.scenario.events) / r.drained.windowsEmitted).toLocaleString());
}

const admin = kafka.admin();
await admin.connect();
await admin.deleteTopics({ topics: createdTopics }).catch(() => {});
await admin.disconnect();
process.exit(0);
