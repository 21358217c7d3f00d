/**
 * The service as `npm start` runs it: a child process that listens, and on SIGTERM stops
 * taking requests, finishes the produces in flight (their events are on the topic) and exits 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectTopic, createTestTopics, testBrokers, testScope, waitFor } from '@clickstream/local-infra/testing';
import { pageView } from './helpers.js';

const main = join(import.meta.dirname, '..', 'src', 'main.ts');

test('SIGTERM drains in-flight requests into Kafka and exits 0', async (context) => {
  const t = testScope(context);
  const { prefix, topics } = await createTestTopics(t, 2);
  const { messages } = await collectTopic(t, topics.clicks);
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: {
      ...process.env,
      KAFKA_BROKERS: testBrokers().join(','),
      TOPIC_PREFIX: prefix,
      COLLECTOR_PORT: '0',
      COLLECTOR_HOST: '127.0.0.1',
      // A long linger keeps the requests inside the collector when SIGTERM arrives.
      PRODUCE_LINGER_MS: '1000',
      // stdout is a pipe here: JSON lines, at the default level.
      LOG_FORMAT: '',
      LOG_LEVEL: '',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  t.after(() => child.exitCode === null && child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const url = await waitFor('the collector to listen', async () => output.match(/listening on (http:\/\/[\d.:]+)/)?.[1], { timeoutMs: 60_000, intervalMs: 100 });
  await waitFor('Kafka connected', async () => (await fetch(`${url}/healthz`)).status === 200, { timeoutMs: 30_000 });

  const events = Array.from({ length: 10 }, () => pageView());
  const responses = events.map((event) =>
    fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) }).then(
      (r) => r.status,
      () => 0,
    ),
  );
  // Let the requests reach the collector (they then linger for a second) before stopping it.
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGTERM');
  const [code] = await exited;
  const statuses = await Promise.all(responses);
  assert.equal(code, 0, output);
  assert.match(output, /SIGTERM: draining[\s\S]*stopped/);
  // Every line on stdout is one JSON log line of the service.
  const lines = output.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => l.msg).filter((m) => /^(listening on|SIGTERM: draining|stopped)/.test(String(m))).map((m) => String(m).split(' ')[0]), ['listening', 'SIGTERM:', 'stopped']);
  for (const line of lines) {
    assert.equal(line.service, 'collector', JSON.stringify(line));
    assert.ok(typeof line.level === 'string' && typeof line.time === 'string' && typeof line.msg === 'string', JSON.stringify(line));
  }
  const acknowledged = events.filter((_, i) => statuses[i] === 202);
  assert.ok(acknowledged.length > 0, `statuses ${statuses.join(',')}`);
  await waitFor('the acknowledged events', async () => acknowledged.every((e) => messages.some((m) => m.value?.includes(e.id))), { timeoutMs: 15_000 });
});
