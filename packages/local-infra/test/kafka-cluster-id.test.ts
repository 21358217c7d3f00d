import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newClusterId } from '../src/kafka-broker.js';

test('a cluster id is a 22-character Kafka Uuid that never starts with a dash', () => {
  // 0xf8 encodes to '-' as the first base64url character: the first draw must be refused.
  const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x11)];
  const id = newClusterId(() => draws.shift()!);
  assert.equal(draws.length, 0);
  assert.equal(id, Buffer.alloc(16, 0x11).toString('base64url'));
  assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  for (let i = 0; i < 2000; i++) assert.ok(!newClusterId().startsWith('-'));
});
