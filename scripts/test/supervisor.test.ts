/**
 * `npm start`'s supervisor, through `npm start` itself (scripts/bootstrap.mjs start) against the
 * test run's Kafka and PostgreSQL, on free ports, a fresh topic prefix and a fresh database:
 * - the processor killed six times in a row comes back each time, after at most 2 s;
 * - a bad setting stops `npm start` with exit code 78 and the setting's name, without a retry,
 *   whether `npm start` reads it itself (COLLECTOR_PORT) or only a service does.
 * Times are reported, not asserted; what is asserted is what the supervisor decided and did.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { freePort, repoRoot } from '@clickstream/local-infra';
import { createTestDatabase, createTestTopics, requireEnv, testScope, uniqueId } from '@clickstream/local-infra/testing';

interface Started {
  child: ChildProcess;
  lines: Array<{ at: number; line: string }>;
  /** The first output line at or after index `from` that matches, with its index. */
  waitForLine(pattern: RegExp, from?: number, timeoutMs?: number): Promise<{ index: number; match: RegExpExecArray; at: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function npmStart(env: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'bootstrap.mjs'), 'start'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Started['lines'] = [];
  const waiters = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) lines.push({ at: Date.now(), line });
      for (const wake of waiters) wake();
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => {
      resolve({ code, signal, at: Date.now() });
      for (const wake of waiters) wake();
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  const waitForLine: Started['waitForLine'] = (pattern, from = 0, timeoutMs = 180_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        for (let index = from; index < lines.length; index++) {
          const match = pattern.exec(lines[index]!.line);
          if (match) {
            cleanup();
            resolve({ index, match, at: lines[index]!.at });
            return;
          }
        }
        if (done) {
          cleanup();
          reject(new Error(`npm start exited before printing ${pattern}; its output:\n${lines.map((l) => l.line).join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${lines.map((l) => l.line).join('\n')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { child, lines, waitForLine, exited };
}

/** Settings for an `npm start` that shares nothing with another run on this machine. */
async function isolatedEnv(t: TestContext, overrides: NodeJS.ProcessEnv = {}) {
  const scope = testScope(t);
  const { prefix } = await createTestTopics(scope);
  const databaseUrl = await createTestDatabase(scope);
  const ports = { collector: await freePort(), processor: await freePort(), dashboard: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
    DATABASE_URL: databaseUrl,
    TOPIC_PREFIX: prefix,
    PROCESSOR_GROUP: uniqueId('supervisor-'),
    COLLECTOR_PORT: String(ports.collector),
    PROCESSOR_METRICS_PORT: String(ports.processor),
    DASHBOARD_PORT: String(ports.dashboard),
    API_TOKEN: randomBytes(24).toString('base64url'),
    ...overrides,
  };
  return { scope, env, ports };
}

function stopOnExit(scope: { after: (fn: () => unknown) => void }, started: Started): void {
  scope.after(async () => {
    if (started.child.exitCode !== null || started.child.signalCode !== null) return;
    started.child.kill('SIGTERM');
    const timer = setTimeout(() => started.child.kill('SIGKILL'), 30_000);
    await started.exited;
    clearTimeout(timer);
  });
}

test('a bad setting npm start reads itself stops it at once with exit code 78, naming the setting', async (t) => {
  const { env } = await isolatedEnv(t, { COLLECTOR_PORT: 'abc' });
  const started = Date.now();
  const run = npmStart(env);
  const exit = await run.exited;
  const output = run.lines.map((l) => l.line).join('\n');
  t.diagnostic(`npm start exited ${exit.code} after ${((exit.at - started) / 1000).toFixed(1)} s`);
  assert.equal(exit.code, 78, output);
  assert.match(output, /invalid setting COLLECTOR_PORT: "abc" is not an integer/);
  assert.doesNotMatch(output, /restarting|started \(pid/, 'nothing was started or retried');
});

test('a bad setting only a service reads stops npm start with exit code 78, the service named and not retried', async (t) => {
  const { scope, env } = await isolatedEnv(t, { RATE_LIMIT_PER_MIN: 'many' });
  const run = npmStart(env);
  stopOnExit(scope, run);
  const launched = await run.waitForLine(/collector started \(pid (\d+)\)/);
  const exit = await run.exited;
  const output = run.lines.map((l) => l.line).join('\n');
  t.diagnostic(`npm start exited ${exit.code} ${((exit.at - launched.at) / 1000).toFixed(1)} s after it launched the collector`);
  assert.equal(exit.code, 78, output);
  assert.match(output, /collector stopped on a configuration error: .*invalid setting RATE_LIMIT_PER_MIN/);
  assert.equal(run.lines.filter((l) => /collector started \(pid/.test(l.line)).length, 1, 'the collector was launched once');
  assert.doesNotMatch(output, /collector exited \(.*restarting in/, 'the collector was not retried');
});

test('the processor killed six times in a row under npm start is back each time, after at most 2 s', async (t) => {
  const { scope, env, ports } = await isolatedEnv(t);
  const run = npmStart(env);
  stopOnExit(scope, run);
  const up = await run.waitForLine(/clickstream is up/);
  let from = up.index;
  let pid = Number((await run.waitForLine(/processor healthy \(pid (\d+)\)/)).match[1]);
  const firstKill = Date.now();
  const report: string[] = [];
  for (let kill = 1; kill <= 6; kill++) {
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const exited = await run.waitForLine(new RegExp(`processor exited \\(signal SIGKILL\\) after [\\d.]+ s; (.*)restarting in (\\d+) ms`), from);
    const [, crashLoop, delay] = exited.match;
    assert.equal(crashLoop, '', `kill ${kill}: not taken for a crash loop`);
    assert.ok(Number(delay) <= 2000, `kill ${kill}: restart delay ${delay} ms is at most 2 s`);
    const relaunched = await run.waitForLine(/processor started \(pid (\d+)\)/, exited.index);
    const healthy = await run.waitForLine(/processor healthy \(pid (\d+)\)/, relaunched.index);
    const newPid = Number(healthy.match[1]);
    assert.equal(newPid, Number(relaunched.match[1]));
    assert.notEqual(newPid, pid, `kill ${kill}: a new process`);
    const answer = await fetch(`http://127.0.0.1:${ports.processor}/healthz`);
    assert.equal(answer.status, 200, `kill ${kill}: the processor answers its health check`);
    report.push(`kill ${kill}: delay ${delay} ms, relaunched after ${relaunched.at - killedAt} ms, healthy after ${healthy.at - killedAt} ms`);
    pid = newPid;
    from = healthy.index;
  }
  t.diagnostic(report.join('\n'));
  t.diagnostic(`six kills in ${((Date.now() - firstKill) / 1000).toFixed(1)} s`);
  // The other services were left alone, and npm start is still running.
  assert.equal(run.lines.filter((l) => /(collector|dashboard) exited/.test(l.line)).length, 0);
  assert.equal(run.child.exitCode, null);
});
