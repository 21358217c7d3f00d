/**
 * `pnpm bench collector`: requests/s and latency of the real collector (producing to the real
 * broker with acks=all) against a bare Fastify route taking the same bodies, with the same
 * autocannon settings, for single events and for 20-event batches. Then the collector again at
 * half its peak rate, for p99 latency under load. Prints the figures and the ratios and writes
 * them to .bench/collector.json.
 *
 * Each server runs in a child process; autocannon runs here. Kafka is the broker scripts/bench.ts
 * started. BENCH_DURATION_S sets the seconds per run (default 10), BENCH_CONNECTIONS the
 * connections (default 100: a public collector
 * serves many browsers at once, and both servers get the same).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { ensureTopics, repoRoot } from '@clickstream/local-infra';
import { topicNames } from '@clickstream/shared';

const here = import.meta.dirname;
const duration = Number(process.env.BENCH_DURATION_S ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const brokers = (process.env.KAFKA_BROKERS ?? 'localhost:9092').split(',');
const log = (message: string) => process.stderr.write(`[bench collector] ${message}\n`);

interface Server {
  url: string;
  child: ChildProcess;
}

async function startServer(script: string, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = output.match(/listening on (http:\/\/[\d.:]+)/);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before listening: ${output}`)));
  });
  return { url, child };
}

async function stopServer(server: Server): Promise<void> {
  const exited = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await exited;
}

const eventBody = (id: string, i: number) =>
  `{"id":"${id}${i}","type":"page_view","siteId":"bench","userId":"u${i % 1000}","sessionId":"s${i % 1000}","ts":${Date.now()},"url":"https://shop.example/products/${i % 50}","title":"Product page"}`;

/** A fresh body per request, so every event has its own id, for both servers alike. */
function bodyFor(batch: number): () => string {
  let n = 0;
  return () => {
    const id = randomBytes(6).toString('hex');
    n++;
    if (batch === 1) return eventBody(id, n);
    const events = Array.from({ length: batch }, (_, i) => eventBody(id, n * batch + i));
    return `{"sentAt":${Date.now()},"events":[${events.join(',')}]}`;
  };
}

interface Figures {
  requestsPerSec: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, batch: number, overallRate?: number, seconds = duration): Promise<Figures> {
  const makeBody = bodyFor(batch);
  const result = await autocannon({
    url: `${url}/v1/events`,
    method: 'POST',
    connections,
    duration: seconds,
    overallRate,
    headers: { 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36' },
    requests: [{ setupRequest: (request) => ({ ...request, body: makeBody() }) }],
  });
  return {
    requestsPerSec: result.requests.average,
    eventsPerSec: result.requests.average * batch,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

const prefix = `bench-${Date.now().toString(36)}-`;
const topics = topicNames(prefix);
await ensureTopics(brokers, topics, 6);
log(`${cpus().length} CPUs, ${connections} connections, ${duration} s per run, Kafka ${brokers.join(',')}`);

const results: Record<string, Figures> = {};
for (const batch of [1, 20]) {
  const bare = await startServer(join(here, 'bare-server.ts'));
  await load(bare.url, batch, undefined, 2); // warm-up: JIT and connections
  results[`bare x${batch}`] = await load(bare.url, batch);
  await stopServer(bare);
  log(`bare route, ${batch}-event bodies: ${results[`bare x${batch}`]!.requestsPerSec.toFixed(0)} req/s`);

  const collector = await startServer(join(here, '..', 'src', 'main.ts'), {
    KAFKA_BROKERS: brokers.join(','),
    TOPIC_PREFIX: prefix,
    COLLECTOR_PORT: '0',
    COLLECTOR_HOST: '127.0.0.1',
    RATE_LIMIT_PER_MIN: '100000000',
  });
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${collector.url}/healthz`)).status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await load(collector.url, batch, undefined, 2);
  const peak = await load(collector.url, batch);
  results[`collector x${batch}`] = peak;
  log(`collector, ${batch}-event bodies: ${peak.requestsPerSec.toFixed(0)} req/s`);
  results[`collector x${batch} @50%`] = await load(collector.url, batch, Math.max(1, Math.round(peak.requestsPerSec / 2)));
  await stopServer(collector);
}

const single = results['collector x1']!.requestsPerSec / results['bare x1']!.requestsPerSec;
const batched = results['collector x20']!;
const rows = Object.entries(results).map(([name, f]) =>
  `| ${name.padEnd(22)} | ${f.requestsPerSec.toFixed(0).padStart(8)} | ${f.eventsPerSec.toFixed(0).padStart(9)} | ${String(f.p50Ms).padStart(6)} | ${String(f.p99Ms).padStart(6)} | ${f.non2xx + f.errors} |`,
);
const report = [
  '| run                    |    req/s |  events/s | p50 ms | p99 ms | non-2xx+errors |',
  '| ---------------------- | -------: | --------: | -----: | -----: | -------------: |',
  ...rows,
  '',
  `collector / bare route, single events: ${(single * 100).toFixed(0)}% (goal >= 60%)`,
  `collector, 20-event batches: ${batched.eventsPerSec.toFixed(0)} events/s (goal >= 100000)`,
  `p99 at 50% of peak: single ${results['collector x1 @50%']!.p99Ms} ms, batches ${results['collector x20 @50%']!.p99Ms} ms (goal < 50 ms)`,
].join('\n');
process.stdout.write(`${report}\n`);
mkdirSync(join(repoRoot, '.bench'), { recursive: true });
writeFileSync(join(repoRoot, '.bench', 'collector.json'), JSON.stringify({ at: new Date().toISOString(), cpus: cpus().length, connections, duration, results }, null, 2));
