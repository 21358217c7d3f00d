/**
 * patches/kafkajs@2.2.4.patch replaces hot paths of kafkajs with faster ones. Each must give
 * exactly what the code it bypasses gives, which kafkajs still holds as the fallback: these tests
 * compare the two on edge cases and on many random inputs.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { seededRandom } from '../src/testing.js';

const require = createRequire(import.meta.url);
const internal = (path: string) => require(`kafkajs/src/${path}`);

/* eslint-disable @typescript-eslint/no-explicit-any -- kafkajs' internals have no types */
const Encoder: any = internal('protocol/encoder');
const Decoder: any = internal('protocol/decoder');
const Long: any = internal('utils/long');
const encodeRecord: any = internal('protocol/recordBatch/record/v0');
const decodeRecord: any = internal('protocol/recordBatch/record/v0/decoder');
const Batch: any = internal('consumer/batch');
const groupMessagesPerPartition: any = internal('producer/groupMessagesPerPartition');

const EDGE_DELTAS = [
  0, 1, -1, 63, 64, -64, -65, 2 ** 20, -(2 ** 20), 2 ** 30 - 1, 2 ** 30, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31),
  2 ** 47, -(2 ** 47), 2 ** 48 - 1, 2 ** 48, -(2 ** 48), 2 ** 49, 2 ** 52, 2 ** 53 - 1, -(2 ** 53) + 1,
];
// Past 2^53 a base no longer converts to a double exactly: those must take the Long path.
const BASES = [
  '0', '1', '-1', '1764000000000', '123456789012', '9007199254740991', '9007199254740992', '9007199254740993',
  '9007199254740995', '-9007199254740993', '9223372036854775807', '-9223372036854775808',
];

test('the patched record decoder is the one loaded: small deltas skip Long decoding', () => {
  const encoder = new Encoder();
  encoder.writeInt8(0);
  encoder.writeVarLong(Long.fromNumber(1234));
  encoder.writeVarInt(3);
  encoder.writeVarIntBytes(Buffer.from('k'));
  encoder.writeVarIntBytes(Buffer.from('v'));
  encoder.writeVarIntArray([]);
  const decoder = new Decoder(encoder.buffer);
  let longReads = 0;
  decoder.readVarLong = () => {
    longReads += 1;
    return Decoder.prototype.readVarLong.call(decoder);
  };
  const record = decodeRecord(decoder, { firstOffset: '10', firstTimestamp: '1000', magicByte: 2 });
  assert.equal(longReads, 0);
  assert.deepEqual([record.offset, record.timestamp], ['13', '2234']);
});

test('records decode to the offsets and timestamps that Long arithmetic gives', () => {
  const next = seededRandom(7);
  const deltas = [...EDGE_DELTAS];
  for (let i = 0; i < 3000; i++) deltas.push(Math.round((next() - 0.5) * 2 ** (1 + Math.floor(next() * 53))));
  let checked = 0;
  for (const base of BASES) {
    for (const delta of deltas) {
      for (const offsetDelta of [0, 5, 1_000_000]) {
        const encoder = new Encoder();
        encoder.writeInt8(0);
        encoder.writeVarLong(Long.fromNumber(delta));
        encoder.writeVarInt(offsetDelta);
        encoder.writeVarIntBytes(Buffer.from('key'));
        encoder.writeVarIntBytes(Buffer.from('value'));
        encoder.writeVarIntArray([]);
        encoder.writeInt8(42); // a sentinel after the record: proves the whole record, no more, was read
        const decoder = new Decoder(encoder.buffer);
        const record = decodeRecord(decoder, { firstOffset: base, firstTimestamp: base, magicByte: 2 });
        assert.equal(record.timestamp, Long.fromValue(base).add(Long.fromNumber(delta)).toString(), `timestamp ${base} + ${delta}`);
        assert.equal(record.offset, Long.fromValue(base).add(offsetDelta).toString(), `offset ${base} + ${offsetDelta}`);
        assert.equal(record.key.toString(), 'key');
        assert.equal(record.value.toString(), 'value');
        assert.equal(decoder.readInt8(), 42);
        checked += 1;
      }
    }
  }
  assert.ok(checked > 80_000);
});

test('a batch keeps the messages at or after the fetched offset, as the Long comparison did', () => {
  for (const fetched of ['0', '5', '9007199254740993', '9223372036854775806']) {
    const first = Long.fromValue(fetched).subtract(3);
    const messages = Array.from({ length: 8 }, (_, i) => ({ offset: first.add(i).toString(), isControlRecord: false }));
    const batch = new Batch('topic', fetched, { partition: 0, highWatermark: '100', messages, abortedTransactions: [] });
    const expected = messages.filter((m) => Long.fromValue(m.offset).gte(Long.fromValue(fetched)));
    assert.deepEqual(batch.messagesWithinOffset, expected, `fetched ${fetched}`);
  }
});

test('the fast record encoder writes the bytes the generic one writes', () => {
  const next = seededRandom(11);
  const values: Array<Buffer | string | null> = [null, '', 'a', 'é ✓ 𝄞', Buffer.from([0, 1, 2, 255]), 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(20_000)];
  for (let i = 0; i < 300; i++) values.push('v'.repeat(Math.floor(next() * 600)));
  const deltas = EDGE_DELTAS.filter((d) => Math.abs(d) < 2 ** 31);
  let checked = 0;
  for (const value of values) {
    for (const delta of deltas) {
      const key = next() < 0.2 ? null : `user-${Math.floor(next() * 1e6)}`;
      const offsetDelta = Math.floor(next() * 100_000);
      // A Long timestamp delta is not a small number, so it takes the generic path.
      const fast = encodeRecord({ offsetDelta, timestampDelta: delta, key, value });
      const generic = encodeRecord({ offsetDelta, timestampDelta: Long.fromNumber(delta), key, value });
      assert.deepEqual(fast.buffer, generic.buffer, `value of ${value?.length} bytes, delta ${delta}`);
      checked += 1;
    }
  }
  assert.ok(checked > 4000);
});

test('messages are grouped per partition in their original order', () => {
  const messages = Array.from({ length: 5000 }, (_, i) => ({ key: `k${i % 97}`, value: String(i) }));
  const partitionMetadata = [0, 1, 2, 3].map((partitionId) => ({ partitionId, leader: 0 }));
  const partitioner = ({ message }: { message: { key: string } }) => Number(message.key.slice(1)) % 4;
  const grouped = groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner });
  for (let p = 0; p < 4; p++) assert.deepEqual(grouped[p], messages.filter((m) => Number(m.key.slice(1)) % 4 === p));
  assert.deepEqual(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner }), {});
});
