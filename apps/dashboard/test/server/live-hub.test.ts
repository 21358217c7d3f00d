import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WindowResult } from '@clickstream/shared';
import { LiveHub, type LiveSocket } from '../../src/server/live/live-hub.js';

/** A socket whose backlog the test sets, recording what it was sent. */
class RecordingSocket implements LiveSocket {
  bufferedAmount = 0;
  readyState = 1;
  readonly frames: string[] = [];
  send(data: string): void {
    this.frames.push(data);
  }
}

const result = (userId: string, siteId = 'default'): WindowResult => ({
  siteId,
  userId,
  windowStart: '2024-01-01T00:00:00.000Z',
  windowEnd: '2024-01-01T00:00:05.000Z',
  events: 1,
  pageViews: 1,
  clicks: 0,
  customEvents: 0,
  uniquePages: 1,
  engagedMs: 0,
  sessions: 1,
  revision: 0,
});

test('one result is serialised once and the same frame goes to every client', () => {
  const stats: Array<[number, number]> = [];
  const hub = new LiveHub(1024, { onFrame: (d, x) => stats.push([d, x]) });
  const a = new RecordingSocket();
  const b = new RecordingSocket();
  hub.add(a);
  hub.add(b);
  hub.broadcast(result('u1'));
  assert.equal(a.frames.length, 1);
  assert.equal(a.frames[0], b.frames[0]);
  assert.deepEqual(JSON.parse(a.frames[0]!), { type: 'window', data: result('u1') });
  assert.deepEqual(stats, [[2, 0]]);
});

test('a slow client misses frames while its backlog is over the limit; the others do not', () => {
  const hub = new LiveHub(1024);
  const slow = new RecordingSocket();
  const fast = new RecordingSocket();
  const slowClient = hub.add(slow);
  hub.add(fast);
  slow.bufferedAmount = 4096;
  for (let i = 0; i < 100; i++) hub.broadcast(result(`u${i}`));
  assert.equal(fast.frames.length, 100);
  assert.equal(slow.frames.length, 0);
  assert.equal(slowClient.dropped, 100);
  slow.bufferedAmount = 0;
  hub.broadcast(result('after'));
  assert.equal(slow.frames.length, 1);
  assert.match(slow.frames[0]!, /"after"/);
});

test('closed sockets get nothing, removed clients get nothing, site filters apply', () => {
  const hub = new LiveHub(1024);
  const closed = new RecordingSocket();
  closed.readyState = 3;
  const shopOnly = new RecordingSocket();
  const removed = new RecordingSocket();
  hub.add(closed);
  hub.add(shopOnly, 'shop');
  hub.remove(hub.add(removed));
  hub.broadcast(result('u1', 'default'));
  hub.broadcast(result('u2', 'shop'));
  assert.equal(closed.frames.length, 0);
  assert.equal(removed.frames.length, 0);
  assert.deepEqual(shopOnly.frames.map((f) => JSON.parse(f).data.userId), ['u2']);
  assert.equal(hub.size, 2);
});

test('a held client (gap fill running) gets live frames after release, in order, and a bounded number', () => {
  const hub = new LiveHub(1024, {}, 3);
  const socket = new RecordingSocket();
  const client = hub.add(socket, undefined, { hold: true });
  for (const u of ['a', 'b', 'c', 'd']) hub.broadcast(result(u));
  assert.equal(socket.frames.length, 0);
  socket.send('gap-fill');
  hub.release(client);
  hub.broadcast(result('e'));
  assert.deepEqual(
    socket.frames.map((f) => (f === 'gap-fill' ? f : JSON.parse(f).data.userId)),
    ['gap-fill', 'a', 'b', 'c', 'e'],
  );
  assert.equal(client.dropped, 1);
});
