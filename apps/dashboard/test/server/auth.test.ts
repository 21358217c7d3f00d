import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiTokens, bearerToken, mayAccess, originAllowed, tokenMatches } from '../../src/server/auth.js';

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

test('ApiTokens tells the admin token from read tokens and refuses everything else', () => {
  const tokens = new ApiTokens('admin-token-0123456789', ['read-token-a-0123456789', 'read-token-b-0123456789']);
  assert.equal(tokens.roleOf('admin-token-0123456789'), 'admin');
  assert.equal(tokens.roleOf('read-token-a-0123456789'), 'read');
  assert.equal(tokens.roleOf('read-token-b-0123456789'), 'read');
  for (const wrong of [undefined, null, '', 'admin-token-012345678', 'read-token-a-0123456789 ', 'READ-TOKEN-A-0123456789', 'x'.repeat(5000)]) {
    assert.equal(tokens.roleOf(wrong), undefined, String(wrong));
  }
  assert.equal(new ApiTokens('admin-token-0123456789').roleOf('read-token-a-0123456789'), undefined);
});

test('mayAccess: admin everything; read GET/HEAD unless a route says admin; unknown routes fall through to 404', () => {
  const route = (url: string | undefined, access?: 'admin' | 'read') => ({ url, config: access ? { access } : {} });
  assert.equal(mayAccess('admin', 'DELETE', route('/api/v1/users/:userId', 'admin')), true);
  assert.equal(mayAccess('read', 'GET', route('/api/v1/sites')), true);
  assert.equal(mayAccess('read', 'HEAD', route('/api/v1/sites')), true);
  assert.equal(mayAccess('read', 'DELETE', route('/api/v1/users/:userId')), false);
  assert.equal(mayAccess('read', 'DELETE', route('/api/v1/users/:userId', 'admin')), false);
  assert.equal(mayAccess('read', 'POST', route('/api/v1/something')), false);
  // A read that is a POST (a query with a body) is opened to read tokens by its route.
  assert.equal(mayAccess('read', 'POST', route('/api/v1/query', 'read')), true);
  assert.equal(mayAccess('read', 'GET', route('/api/v1/secret', 'admin')), false);
  assert.equal(mayAccess('read', 'DELETE', route(undefined)), true);
});
