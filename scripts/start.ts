/**
 * `npm start`: the whole platform on this machine. Kafka (Apache's jars, KRaft, port 9092),
 * PostgreSQL (DATABASE_URL, else 127.0.0.1:5432, else the project's own), topics and tables,
 * then the collector, processor and dashboard. Ctrl-C stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDatabase, migrate, redact } from '@clickstream/db';
import { ensurePostgres, ensureTopics, isPortOpen, KafkaBroker, localDataDir, serviceCommand, waitFor } from '@clickstream/local-infra';
import { topicNames } from '@clickstream/shared';
import { ensureUiBuilt } from '../apps/dashboard/web/build-ui.js';
import { startDemoTraffic } from '../apps/dashboard/demo/traffic.js';

const startedAt = Date.now();
const log = (message: string) => process.stdout.write(`[clickstream] ${message}\n`);
const stopSteps: Array<() => Promise<void>> = [];
const env = process.env;

const COLLECTOR_PORT = Number(env.COLLECTOR_PORT ?? 8080);
const PROCESSOR_METRICS_PORT = Number(env.PROCESSOR_METRICS_PORT ?? 9464);
const DASHBOARD_PORT = Number(env.DASHBOARD_PORT ?? 3000);
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

interface Service {
  name: string;
  dir: 'collector' | 'processor' | 'dashboard';
  healthUrl: string;
  child?: ChildProcess;
  restarts: number;
}

let shuttingDown = false;

function pipeWithPrefix(stream: NodeJS.ReadableStream | null, name: string, target: NodeJS.WritableStream): void {
  if (!stream) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) target.write(`[${name}] ${line}\n`);
  });
}

function launch(service: Service, serviceEnv: NodeJS.ProcessEnv): void {
  const command = serviceCommand(service.dir);
  const child = spawn(process.execPath, command.args, {
    cwd: command.cwd,
    env: serviceEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service.child = child;
  pipeWithPrefix(child.stdout, service.name, process.stdout);
  pipeWithPrefix(child.stderr, service.name, process.stderr);
  child.on('exit', (code, signal) => {
    if (shuttingDown) return;
    // Every service recovers its state on start, so a crash costs a restart, not data.
    service.restarts += 1;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(service.restarts, 6));
    log(`${service.name} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
    setTimeout(() => !shuttingDown && launch(service, serviceEnv), delay);
  });
}

/** Every service launched so far, so that any exit path - Ctrl-C, a failed start - stops them. */
const services: Service[] = [];
let stopping: Promise<void> | undefined;

function stopAll(): Promise<void> {
  stopping ??= stopEverything();
  return stopping;
}

async function stopEverything(): Promise<void> {
  shuttingDown = true;
  log('stopping services…');
  await Promise.all(
    services.map(
      (s) =>
        new Promise<void>((resolve) => {
          const child = s.child;
          if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  for (const step of stopSteps.reverse()) await step().catch((e: Error) => log(`stop step failed: ${e.message}`));
  stopSteps.length = 0;
}

async function main(): Promise<void> {
  const brokers = await startKafka();
  const created = await ensureTopics(brokers, topicNames());
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
  services.push(
    { name: 'collector', dir: 'collector', healthUrl: `http://127.0.0.1:${COLLECTOR_PORT}/healthz`, restarts: 0 },
    { name: 'processor', dir: 'processor', healthUrl: `http://127.0.0.1:${PROCESSOR_METRICS_PORT}/healthz`, restarts: 0 },
    { name: 'dashboard', dir: 'dashboard', healthUrl: `http://127.0.0.1:${DASHBOARD_PORT}/healthz`, restarts: 0 },
  );
  // The dashboard serves apps/dashboard/dist/web; rebuild it when its sources are newer.
  await ensureUiBuilt(log);
  for (const service of services) launch(service, serviceEnv);
  await Promise.all(
    services.map((s) =>
      waitFor(`${s.name} health (${s.healthUrl})`, async () => (await fetch(s.healthUrl)).ok, { timeoutMs: 90_000, intervalMs: 300 }),
    ),
  );

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

main().catch(async (error: Error) => {
  log(`start failed: ${error.message}`);
  await stopAll();
  process.exit(1);
});
