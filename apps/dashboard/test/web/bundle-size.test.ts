/** The dashboard's initial JavaScript stays within its budget (a real production build). */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildUi } from '../../web/build-ui.js';
import { INITIAL_JS_BUDGET_BYTES, measureInitialJs, type BundleSize } from '../../web/bundle-size.js';

test('initial chunks are the entry and what it imports statically, not lazy chunks', () => {
  const chunk = (fileName: string, code: string, isEntry: boolean, imports: string[] = []) => ({ type: 'chunk' as const, fileName, code, isEntry, imports });
  const size = measureInitialJs([chunk('a.js', 'x'.repeat(1000), true, ['b.js']), chunk('b.js', 'y'.repeat(500), false), chunk('lazy.js', 'z'.repeat(9000), false)]);
  assert.equal(size.initialJsBytes, 1500);
  assert.deepEqual(size.chunks.filter((c) => c.initial).map((c) => c.file), ['a.js', 'b.js']);
});

test(`the built dashboard loads at most ${INITIAL_JS_BUDGET_BYTES / 1024} KB of gzipped JavaScript before first render`, async (t) => {
  const outDir = mkdtempSync(join(tmpdir(), 'dashboard-build-'));
  t.after(() => rmSync(outDir, { recursive: true, force: true }));
  await buildUi({ outDir });
  const size = JSON.parse(readFileSync(join(outDir, 'bundle-size.json'), 'utf8')) as BundleSize;
  process.stdout.write(`# initial JS ${(size.initialJsGzipBytes / 1024).toFixed(1)} KB gzipped of ${(size.chunks.reduce((s, c) => s + c.gzipBytes, 0) / 1024).toFixed(1)} KB in all\n`);
  assert.ok(size.initialJsGzipBytes > 10_000, 'the measurement saw the React bundle');
  assert.ok(size.initialJsGzipBytes <= INITIAL_JS_BUDGET_BYTES, `initial JS is ${size.initialJsGzipBytes} bytes gzipped`);
  const html = readFileSync(join(outDir, 'index.html'), 'utf8');
  for (const chunk of size.chunks.filter((c) => c.initial)) assert.ok(html.includes(chunk.file), `${chunk.file} is referenced by index.html`);
  assert.ok(readdirSync(join(outDir, 'assets')).some((f) => f.endsWith('.css')));
});
