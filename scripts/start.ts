/**
 * `npm start`: the whole platform on this machine. Kafka (Apache's jars, KRaft, port 9092),
 * PostgreSQL (DATABASE_URL, else 127.0.0.1:5432, else the project's own), topics and tables,
 * then the collector, processor and dashboard. Ctrl-C stops everything it started.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDatabase, migrate, redact } from '@clickstream/db';
import { ensurePostgres, ensureTopics, isPortOpen, KafkaBroker, localDataDir, serviceCommand, waitFor } from '@clickstream/local-infra';
import { ConfigError, readPort, readTopicPrefix, topicNames } from '@clickstream/shared';
import { ensureUiBuilt } from '../apps/dashboard/web/build-ui.js';
import { startDemoTraffic } from '../apps/dashboard/demo/traffic.js';
import { CONFIG_ERROR_EXIT_CODE } from './lib/restart-policy.js';
import { Supervisor, type ConfigFailure } from './lib/supervisor.js';

const startedAt = Date.now();
const log = (message: string) => process.stdout.write(`[clickstream] ${message}\n`);
const stopSteps: Array<() => Promise<void>> = [];
const env = process.env;


/** A bad setting stops `npm start` at once with exit code 78, as it stops each service. */
function configErrorExit(setting: string, message: string): never {
  log(`${message}; fix ${setting} and run npm start again`);
  process.exit(CONFIG_ERROR_EXIT_CODE);
}

function readSettings() {
  try {
    return {
      COLLECTOR_PORT: readPort(env, 'COLLECTOR_PORT', 8080),
      PROCESSOR_METRICS_PORT: readPort(env, 'PROCESSOR_METRICS_PORT', 9464),
      DASHBOARD_PORT: readPort(env, 'DASHBOARD_PORT', 3000),
      TOPIC_PREFIX: readTopicPrefix(env),
    };
  } catch (error) {
    if (error instanceof ConfigError) configErrorExit(error.setting, error.message);
    throw error;
  }
}
const { COLLECTOR_PORT, PROCESSOR_METRICS_PORT, DASHBOARD_PORT, TOPIC_PREFIX } = readSettings();
// `npm start -- --demo`: simulated shoppers on the demo site, so the dashboard moves at once.
const DEMO = process.argv.slice(2).includes('--demo');

async function startKafka(): Promise<string[]> {
  if (env.KAFKA_BROKERS) {
    log(`using Kafka at ${env.KAFKA_BROKERS} (KAFKA_BROKERS)`);
    return env.KAFKA_BROKERS.split(',');
  }
  if (await isPortOpen(9092)) {
    log('using the Kafka broker already listening on localhost:9092');
    return ['127.0.0.1:9092'];
  }
  const t0 = Date.now();
  const broker = new KafkaBroker({ dataDir: join(localDataDir, 'kafka'), port: 9092, controllerPort: 9093, log });
  await broker.start();
  stopSteps.push(async () => {
    log('stopping Kafka…');
    await broker.stop();
  });
  log(`Kafka broker up on localhost:9092 in ${((Date.now() - t0) / 1000).toFixed(1)} s (data in .data/kafka)`);
  return broker.brokers;
}

function apiToken(): string {
  if (env.API_TOKEN) return env.API_TOKEN;
  const file = join(localDataDir, 'api-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(localDataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** The services once launched, so that any exit path - Ctrl-C, a failed start - stops them. */
let supervisor: Supervisor | undefined;
let stopping: Promise<void> | undefined;
/** Settles when a service exits with a configuration error: `npm start` then stops at once. */
let onConfigFailure: (failure: ConfigFailure) => void = () => {};
const configFailure = new Promise<ConfigFailure>((resolve) => (onConfigFailure = resolve));

function stopAll(): Promise<void> {
  stopping ??= stopEverything();
  return stopping;
}

async function stopEverything(): Promise<void> {
  if (supervisor) {
    log('stopping services…');
    await supervisor.stop();
  }
  for (const step of stopSteps.reverse()) await step().catch((e: Error) => log(`stop step failed: ${e.message}`));
  stopSteps.length = 0;
}

async function main(): Promise<void> {
  const brokers = await startKafka();
  const created = await ensureTopics(brokers, topicNames(TOPIC_PREFIX));
  if (created.length > 0) log(`created topics ${created.join(', ')} (6 partitions each)`);

  const postgres = await ensurePostgres({ databaseUrl: env.DATABASE_URL, dataDir: join(localDataDir, 'postgres'), log });
  stopSteps.unshift(() => postgres.stop());
  const databaseUrl = env.DATABASE_URL ?? `${postgres.serverUrl}/clickstream`;
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl);
  log(`PostgreSQL: ${redact(databaseUrl)} (${postgres.source}); schema up to date`);

  const token = apiToken();
  const serviceEnv: NodeJS.ProcessEnv = {
    ...env,
    KAFKA_BROKERS: brokers.join(','),
    DATABASE_URL: databaseUrl,
    API_TOKEN: token,
    COLLECTOR_PORT: String(COLLECTOR_PORT),
    PROCESSOR_METRICS_PORT: String(PROCESSOR_METRICS_PORT),
    DASHBOARD_PORT: String(DASHBOARD_PORT),
    COLLECTOR_PUBLIC_URL: env.COLLECTOR_PUBLIC_URL ?? `http://localhost:${COLLECTOR_PORT}`,
  };
  const services = [
    { name: 'collector', healthUrl: `http://127.0.0.1:${COLLECTOR_PORT}/healthz` },
    { name: 'processor', healthUrl: `http://127.0.0.1:${PROCESSOR_METRICS_PORT}/healthz` },
    { name: 'dashboard', healthUrl: `http://127.0.0.1:${DASHBOARD_PORT}/healthz` },
  ] as const;
  // The dashboard serves apps/dashboard/dist/web; rebuild it when its sources are newer.
  await ensureUiBuilt(log);
  // Every service recovers its state on start, so a crash costs a restart, not data; each runs
  // as its package.json start script says, on this same node binary.
  supervisor = new Supervisor(
    services.map(({ name, healthUrl }) => {
      const command = serviceCommand(name);
      return { name, file: command.node, args: command.args, cwd: command.cwd, env: serviceEnv, healthUrl };
    }),
    { log, onConfigError: (failure) => onConfigFailure(failure) },
  );
  supervisor.start();
  const healthy = Promise.all(
    services.map((s) =>
      waitFor(`${s.name} health (${s.healthUrl})`, async () => (await fetch(s.healthUrl)).ok, { timeoutMs: 90_000, intervalMs: 300 }),
    ),
  );
  // A service that names a bad setting ends the wait at once; the handler below stops everything.
  const failure = await Promise.race([healthy.then(() => undefined), configFailure]);
  if (failure) {
    healthy.catch(() => {});
    return;
  }

  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const lines = [
    '',
    `clickstream is up (${seconds} s)`,
    `  Dashboard   http://localhost:${DASHBOARD_PORT}/?token=${token}`,
    `  API token   ${token}   (kept in .data/api-token)`,
    `  Demo page   http://localhost:${DASHBOARD_PORT}/demo/`,
    `  Collector   http://localhost:${COLLECTOR_PORT}/v1/events   snippet: http://localhost:${COLLECTOR_PORT}/snippet.js`,
    `  Try it      curl -X POST localhost:${COLLECTOR_PORT}/v1/events -H 'content-type: application/json' \\`,
    `                -d '{"id":"evt-0000001","type":"page_view","userId":"u1","sessionId":"s1","ts":'$(date +%s000)',"url":"https://example.com/"}'`,
    ...(DEMO ? [`  Demo data   simulated shoppers → http://localhost:${DASHBOARD_PORT}/?site=demo-shop&token=${token}`] : []),
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (DEMO) {
    const traffic = startDemoTraffic({
      collectorUrl: `http://127.0.0.1:${COLLECTOR_PORT}`,
      pageOrigin: `http://localhost:${DASHBOARD_PORT}`,
      log,
    });
    stopSteps.unshift(() => traffic.stop());
  }
}

// Ctrl-C reaches every process of the terminal's group, and the npm bootstrapper forwards
// signals too: the same signal may arrive twice, so shutdown is idempotent.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    void stopAll().then(() => {
      log('stopped');
      process.exit(0);
    });
  });
}
// When whoever started us is gone (its terminal closed, npm killed), nobody could stop us later.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) {
    log('parent process gone; stopping');
    void stopAll().then(() => process.exit(0));
  }
}, 1000).unref();

// A service stopped on a bad setting (exit 78): the same settings would fail the same way, so
// everything stops, with that service's message, and `npm start` exits 78 too.
void configFailure.then(async (failure) => {
  await stopAll();
  log(`${failure.service} stopped on a configuration error: ${failure.message}`);
  log('npm start stopped; fix the setting and run it again');
  process.exit(CONFIG_ERROR_EXIT_CODE);
});

main().catch(async (error: Error) => {
  log(`start failed: ${error.message}`);
  await stopAll();
  process.exit(1);
});
