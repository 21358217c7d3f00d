/**
 * The UI's token handling: a `?token=` the page was opened with moves into storage and out of the
 * address bar (history.replaceState), other parameters and the fragment stay.
 */
import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { adoptTokenFromUrl, initialToken, loadToken, saveToken, type TokenEnv } from '../../web/src/token.js';

type FakeWindow = TokenEnv & { replaced: string[] };

function fakeWindow(href: string, { storageWorks = true } = {}): FakeWindow {
  const items = new Map<string, string>();
  const refuse = () => {
    throw new Error('storage is disabled');
  };
  const localStorage = {
    getItem: (key: string) => (storageWorks ? (items.get(key) ?? null) : refuse()),
    setItem: (key: string, value: string) => (storageWorks ? void items.set(key, value) : refuse()),
    removeItem: (key: string) => (storageWorks ? void items.delete(key) : refuse()),
  };
  const w: FakeWindow = {
    location: { href },
    localStorage,
    replaced: [],
    history: {
      state: { from: 'router' },
      replaceState: (_state, _unused, url) => {
        w.replaced.push(String(url));
        w.location.href = new URL(String(url), w.location.href).href;
      },
    },
  };
  return w;
}

beforeEach(() => saveToken(undefined, fakeWindow('http://dash.example/')));

test('a ?token= moves into storage and out of the URL; other parameters and the fragment stay', () => {
  const w = fakeWindow('http://dash.example/users/u1?site=shop&token=secret-token-0123456789&range=1h#top');
  adoptTokenFromUrl(w);
  assert.deepEqual(w.replaced, ['/users/u1?site=shop&range=1h#top']);
  assert.ok(!w.location.href.includes('secret-token'), w.location.href);
  assert.equal(w.localStorage.getItem('clickstream.apiToken'), 'secret-token-0123456789');
  // A second call (React's strict mode renders twice) finds nothing more to do.
  assert.equal(initialToken(w), 'secret-token-0123456789');
  assert.equal(w.replaced.length, 1);
});

test('without a token in the URL nothing is rewritten and the saved token is used', () => {
  const w = fakeWindow('http://dash.example/?site=shop');
  w.localStorage.setItem('clickstream.apiToken', 'saved-token-0123456789');
  assert.equal(initialToken(w), 'saved-token-0123456789');
  assert.deepEqual(w.replaced, []);
});

test('an empty ?token= is removed from the URL and saves nothing', () => {
  const w = fakeWindow('http://dash.example/?token=%20');
  assert.equal(initialToken(w), undefined);
  assert.deepEqual(w.replaced, ['/']);
});

test('where storage is refused the token still leaves the URL and lives in memory', () => {
  const w = fakeWindow('http://dash.example/?token=memory-token-0123456789', { storageWorks: false });
  assert.equal(initialToken(w), 'memory-token-0123456789');
  assert.deepEqual(w.replaced, ['/']);
  saveToken(undefined, w);
  assert.equal(loadToken(w), undefined);
});
