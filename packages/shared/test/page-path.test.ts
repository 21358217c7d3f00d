import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pagePathOf } from '../src/page-path.js';
import { windowStartOf } from '../src/window.js';

test('URLs that name one page give one path: dot segments, encodings, query and fragment', () => {
  const same: Array<[string, string]> = [
    ['https://s.example/docs/../pricing', 'https://s.example/pricing'],
    ['https://s.example/./x', 'https://s.example/x'],
    ['https://s.example/a b', 'https://s.example/a%20b'],
    ['https://s.example/x/y?q=1#f', 'https://s.example/x/y'],
    ['https://s.example', 'https://s.example/'],
    ['https://s.example?q=/z', 'https://s.example/'],
    ['http://s.example:8080/#/spa', 'http://s.example/'],
    ['https://s.example/a\\b', 'https://s.example/a/b'],
    ['https://s.example/caf\u00e9', 'https://s.example/caf%C3%A9'],
    ['https://s.example/x/%2e%2e/y', 'https://s.example/y'],
  ];
  for (const [a, b] of same) assert.equal(pagePathOf(a), pagePathOf(b), `${a} and ${b}`);
  assert.equal(pagePathOf('https://s.example/docs/../pricing'), '/pricing');
  assert.equal(pagePathOf('https://s.example/a b'), '/a%20b');
  assert.notEqual(pagePathOf('https://s.example/a'), pagePathOf('https://s.example/A'), 'paths are case-sensitive');
});

test('the fast path agrees with the URL parser on generated URLs', () => {
  const pieces = ['a', 'B', '0', '/', '.', '..', '%20', '%2e', ' ', '?', '#', '-', '_', '~', '\\', 'é', '+', ';', '=', '@', '&'];
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 5000; i++) {
    let path = '';
    const length = Math.floor(random() * 12);
    for (let j = 0; j < length; j++) path += pieces[Math.floor(random() * pieces.length)];
    // Events reach the processor only with a URL the collector could parse, so the host is valid.
    const url = `https://shop.example${['/', '/', '/', '?', '#', ''][Math.floor(random() * 6)]}${path}`;
    let expected: string;
    try {
      expected = new URL(url).pathname || '/';
    } catch {
      continue;
    }
    assert.equal(pagePathOf(url), expected, url);
  }
});

test('windows are aligned to the epoch, end exclusive, for any size', () => {
  assert.equal(windowStartOf(1_700_000_004_999), 1_700_000_000_000);
  assert.equal(windowStartOf(1_700_000_005_000), 1_700_000_005_000);
  assert.equal(windowStartOf(-1), -5000);
  assert.equal(windowStartOf(61_000, 60_000), 60_000);
});
