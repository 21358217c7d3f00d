/**
 * A client that stops reading misses frames instead of making the server buffer without bound,
 * and a client that keeps reading gets every frame. Real sockets over loopback.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import WebSocket from 'ws';
import { testScope, waitFor } from '@clickstream/local-infra/testing';
import { TOKEN, startTestDashboard, windowResult } from './helpers.js';

function open(url: string): Promise<{ ws: WebSocket; received: () => number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let count = 0;
    ws.on('message', () => (count += 1));
    ws.once('open', () => resolve({ ws, received: () => count }));
    ws.once('error', reject);
  });
}

test('a slow live client gets dropped frames, not unbounded memory; others get everything', async (context) => {
  const t = testScope(context);
  let delivered = 0;
  let dropped = 0;
  const d = await startTestDashboard(t, {
    env: { LIVE_MAX_BUFFERED_BYTES: String(64 * 1024) },
    hubStats: { onFrame: (ok, missed) => ((delivered += ok), (dropped += missed)) },
  });
  await d.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = d.app.server.address() as AddressInfo;
  const url = `ws://127.0.0.1:${port}/api/v1/live?token=${TOKEN}`;
  const fast = await open(url);
  const slow = await open(url);
  t.after(() => fast.ws.terminate());
  t.after(() => slow.ws.terminate());
  await waitFor('both clients registered', async () => d.hub.size === 2);

  // The slow client's process stops reading: the kernel buffers fill, then the server's.
  (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  const frames = 20_000;
  const padding = 'x'.repeat(400);
  const sockets = [...(d.app.websocketServer.clients as Set<WebSocket>)];
  let maxBuffered = 0;
  for (let i = 0; i < frames; i++) {
    d.hub.broadcast(windowResult({ userId: `u${i}-${padding}`, windowStart: new Date(i * 5000).toISOString() }));
    // Let the event loop write to the sockets now and then, as it would between Kafka batches.
    if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    for (const s of sockets) maxBuffered = Math.max(maxBuffered, s.bufferedAmount);
  }

  await waitFor('the fast client has every frame', async () => fast.received() === frames, { timeoutMs: 30_000 });
  assert.ok(dropped > 0, 'the slow client missed frames');
  assert.equal(delivered + dropped, 2 * frames);
  // What the server holds for it stays at the limit plus at most one frame, far below what was sent.
  const sentBytes = frames * 600; // every frame is longer than 600 bytes
  assert.ok(maxBuffered <= 64 * 1024 + 4096, `server buffered up to ${maxBuffered} bytes`);
  assert.ok(sentBytes > 10 * maxBuffered);

  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  await waitFor('the slow client drains', async () => slow.received() === frames - dropped, { timeoutMs: 30_000 });
  // Once drained it gets new frames again.
  d.hub.broadcast(windowResult({ userId: 'after', windowStart: new Date(0).toISOString() }));
  await waitFor('the slow client gets the next frame', async () => slow.received() === frames - dropped + 1);
});
