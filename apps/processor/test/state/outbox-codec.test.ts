import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeOutboxRecords, encodeOutboxRecords, type OutboxRecord } from '../../src/state/outbox-codec.js';

test('outbox records survive the line encoding, whatever their keys hold', () => {
  const records: OutboxRecord[] = [
    { t: 'metrics', k: 'user-1', v: JSON.stringify({ userId: 'user-1', events: 3, note: 'tab\there, newline\nhere' }) },
    { t: 'late', k: 'we\tird\nkey "quoted" \u2028', v: JSON.stringify({ reason: 'too late' }) },
    { t: 'invalid', k: null, v: JSON.stringify({ raw: '{"not json' }) },
  ];
  const text = encodeOutboxRecords(records);
  assert.equal(text.split('\n').length, records.length + 1, 'one line per record');
  assert.deepEqual(decodeOutboxRecords(text), records);
  assert.deepEqual(decodeOutboxRecords(''), []);
});

test('entries written as a JSON array by earlier versions still decode', () => {
  const records: OutboxRecord[] = [{ t: 'metrics', k: 'u', v: '{"a":1}' }];
  assert.deepEqual(decodeOutboxRecords(JSON.stringify(records)), records);
});

test('a value with a raw newline is refused before it can be committed', () => {
  assert.throws(() => encodeOutboxRecords([{ t: 'late', k: 'u', v: '{"a":\n1}' }]), /raw newline/);
});

test('a corrupt entry is refused, not half-delivered', () => {
  assert.throws(() => decodeOutboxRecords('metrics\t"k"\n'), /corrupt outbox entry/);
  assert.throws(() => decodeOutboxRecords('bogus\t"k"\t{}\n'), /corrupt outbox entry/);
});
