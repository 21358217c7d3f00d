import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearerToken, originAllowed, tokenMatches } from '../../src/server/auth.js';

test('tokenMatches accepts only the exact token', () => {
  const token = 'the-secret-token-123';
  assert.equal(tokenMatches(token, token), true);
  for (const wrong of [undefined, null, '', 'the-secret-token-12', 'the-secret-token-1234', 'THE-SECRET-TOKEN-123', 'x'.repeat(5000)]) {
    assert.equal(tokenMatches(token, wrong), false, String(wrong));
  }
});

test('bearerToken reads the Bearer scheme only', () => {
  assert.equal(bearerToken('Bearer abc'), 'abc');
  assert.equal(bearerToken('bearer   abc '), 'abc');
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken('Bearer'), undefined);
  assert.equal(bearerToken('Bearer a b'), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

test('originAllowed: the dashboard itself, the allow-list, and clients that send no Origin', () => {
  const allowed = ['https://ops.example'];
  assert.equal(originAllowed('http://localhost:3000', 'localhost:3000', allowed), true);
  assert.equal(originAllowed('http://LOCALHOST:3000', 'localhost:3000', allowed), true);
  assert.equal(originAllowed('https://ops.example', 'localhost:3000', allowed), true);
  assert.equal(originAllowed(undefined, 'localhost:3000', allowed), true);
  assert.equal(originAllowed('http://localhost:3001', 'localhost:3000', allowed), false);
  assert.equal(originAllowed('https://evil.example', 'localhost:3000', allowed), false);
  assert.equal(originAllowed('https://ops.example.evil.example', 'localhost:3000', allowed), false);
  assert.equal(originAllowed('null', 'localhost:3000', allowed), false);
  assert.equal(originAllowed('file://localhost:3000', 'localhost:3000', allowed), false);
  assert.equal(originAllowed('http://evil.example', undefined, allowed), false);
});
