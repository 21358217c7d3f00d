import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProduceBatcher, type BatchItem } from '../src/produce-batcher.js';

/** A send function the test settles by hand, to see exactly what was grouped into which call. */
function controlledSend() {
  const calls: Array<{ batch: BatchItem<number>; resolve: () => void; reject: (e: Error) => void }> = [];
  const send = (batch: BatchItem<number>) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ batch, resolve, reject });
    });
  return { calls, send };
}

const options = (over: Partial<ConstructorParameters<typeof ProduceBatcher>[1]> = {}) => ({
  lingerMs: 5,
  maxBatchMessages: 10,
  timeoutMs: 5_000,
  onTimeout: () => new Error('timeout'),
  ...over,
});
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

test('concurrent submissions share one call, and each resolves only when that call does', async () => {
  const { calls, send } = controlledSend();
  const batcher = new ProduceBatcher(send, options());
  let settled = 0;
  const a = batcher.submit({ clicks: [1, 2], invalid: [] }).then(() => settled++);
  const b = batcher.submit({ clicks: [3], invalid: [9] }).then(() => settled++);
  await tick(20);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0]!.batch, { clicks: [1, 2, 3], invalid: [9] });
  assert.equal(settled, 0);
  calls[0]!.resolve();
  await Promise.all([a, b]);
  assert.equal(settled, 2);
});

test('requests arriving while a call is in flight leave together in the next call, bounded by size', async () => {
  const { calls, send } = controlledSend();
  const batcher = new ProduceBatcher(send, options({ maxBatchMessages: 4 }));
  const first = batcher.submit({ clicks: [1], invalid: [] });
  await tick(20);
  assert.equal(calls.length, 1);
  const rest = [batcher.submit({ clicks: [2, 3], invalid: [] }), batcher.submit({ clicks: [4, 5], invalid: [] }), batcher.submit({ clicks: [6], invalid: [] })];
  await tick(20);
  assert.equal(calls.length, 1, 'only one call in flight at a time');
  calls[0]!.resolve();
  await first;
  await tick();
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[1]!.batch.clicks, [2, 3, 4, 5], 'the size bound splits the waiting requests');
  calls[1]!.resolve();
  await tick();
  assert.deepEqual(calls[2]!.batch.clicks, [6]);
  calls[2]!.resolve();
  await Promise.all(rest);
});

test('a full batch leaves at once without lingering', async () => {
  const { calls, send } = controlledSend();
  const batcher = new ProduceBatcher(send, options({ lingerMs: 60_000, maxBatchMessages: 3 }));
  const p = batcher.submit({ clicks: [1, 2, 3], invalid: [] });
  await tick();
  assert.equal(calls.length, 1);
  calls[0]!.resolve();
  await p;
});

test('a failed call rejects every request it carried, and later requests still go out', async () => {
  const { calls, send } = controlledSend();
  const batcher = new ProduceBatcher(send, options());
  const a = batcher.submit({ clicks: [1], invalid: [] });
  const b = batcher.submit({ clicks: [2], invalid: [] });
  await tick(20);
  calls[0]!.reject(new Error('broker gone'));
  await assert.rejects(a, /broker gone/);
  await assert.rejects(b, /broker gone/);
  const c = batcher.submit({ clicks: [3], invalid: [] });
  await tick(20);
  calls[1]!.resolve();
  await c;
});

test('a request past its deadline fails on time, and if it had not left yet it is never sent', async () => {
  const { calls, send } = controlledSend();
  const batcher = new ProduceBatcher(send, options({ timeoutMs: 50 }));
  const stuck = batcher.submit({ clicks: [1], invalid: [] });
  await tick(10);
  const waiting = batcher.submit({ clicks: [2], invalid: [] });
  const started = Date.now();
  await assert.rejects(stuck, /timeout/);
  await assert.rejects(waiting, /timeout/);
  assert.ok(Date.now() - started < 1000);
  assert.equal(batcher.queued, 0);
  calls[0]!.resolve();
  await tick(20);
  assert.equal(calls.length, 1, 'the expired request was dropped, not sent late');
});

test('idle() waits for queued and in-flight work', async () => {
  const { calls, send } = controlledSend();
  const batcher = new ProduceBatcher(send, options());
  const p = batcher.submit({ clicks: [1], invalid: [] });
  let idle = false;
  const done = batcher.idle().then(() => (idle = true));
  await tick(20);
  assert.equal(idle, false);
  calls[0]!.resolve();
  await Promise.all([p, done]);
  assert.equal(idle, true);
});

test('an empty submission resolves without a call', async () => {
  const { calls, send } = controlledSend();
  await new ProduceBatcher(send, options()).submit({ clicks: [], invalid: [] });
  assert.equal(calls.length, 0);
});

test('with maxInFlight 2, a second call starts while the first is in flight, never a third', async () => {
  const { calls, send } = controlledSend();
  const batcher = new ProduceBatcher(send, options({ maxInFlight: 2, lingerMs: 1 }));
  const a = batcher.submit({ clicks: [1], invalid: [] });
  await tick(10);
  const b = batcher.submit({ clicks: [2], invalid: [] });
  await tick(10);
  const c = batcher.submit({ clicks: [3], invalid: [] });
  const d = batcher.submit({ clicks: [4], invalid: [] });
  await tick(10);
  assert.equal(calls.length, 2, 'two calls in flight, the rest waits');
  calls[0]!.resolve();
  await a;
  await tick();
  assert.equal(calls.length, 3);
  assert.deepEqual(calls[2]!.batch.clicks, [3, 4]);
  calls[1]!.resolve();
  calls[2]!.resolve();
  await Promise.all([b, c, d]);
});
