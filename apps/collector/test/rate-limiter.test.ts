import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimiter } from '../src/rate-limiter.js';

test('allows the per-minute budget, then refuses with a Retry-After until tokens refill', () => {
  let clock = 1_000_000;
  const limiter = new RateLimiter(60, () => clock);
  for (let i = 0; i < 60; i++) assert.equal(limiter.take('a').allowed, true);
  const refused = limiter.take('a');
  assert.equal(refused.allowed, false);
  assert.equal(refused.retryAfterSec, 1);
  assert.equal(limiter.take('b').allowed, true, 'addresses have separate budgets');
  clock += 1000;
  assert.equal(limiter.take('a').allowed, true, 'one token back after a second');
  assert.equal(limiter.take('a').allowed, false);
});

test('Retry-After reflects a slow refill', () => {
  let clock = 0;
  const limiter = new RateLimiter(1, () => clock);
  assert.equal(limiter.take('a').allowed, true);
  assert.equal(limiter.take('a').retryAfterSec, 60);
  clock += 30_000;
  assert.equal(limiter.take('a').retryAfterSec, 30);
});

test('refilled addresses are forgotten, and memory is bounded', () => {
  let clock = 0;
  const limiter = new RateLimiter(10, () => clock, 3);
  limiter.take('a');
  limiter.take('b');
  clock += 61_000;
  limiter.take('c');
  assert.equal(limiter.size, 1, 'a and b refilled and were swept');
  limiter.take('d');
  limiter.take('e');
  limiter.take('f');
  assert.ok(limiter.size <= 3);
});
