import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildSnippet, SNIPPET_BUDGET_GZIP_BYTES, writeSnippet } from '../snippet/build.js';

test(`the snippet is at most ${SNIPPET_BUDGET_GZIP_BYTES} bytes minified and gzipped`, async () => {
  const built = await buildSnippet();
  process.stdout.write(`snippet: ${built.minBytes} B min, ${built.gzipBytes} B gzip, ${built.brotliBytes} B brotli\n`);
  assert.ok(built.gzipBytes <= SNIPPET_BUDGET_GZIP_BYTES, `${built.gzipBytes} B gzip is over the ${SNIPPET_BUDGET_GZIP_BYTES} B budget`);
  assert.ok(built.gzipBytes > 200, 'the build produced the real snippet');
});

test('the build writes a runnable file that defines nothing but cs', async (context) => {
  const dir = await mkdtemp(join(tmpdir(), 'snippet-'));
  context.after(() => rm(dir, { recursive: true, force: true }));
  const output = join(dir, 'snippet.min.js');
  await writeSnippet(output);
  const code = await readFile(output, 'utf8');
  assert.doesNotThrow(() => new Function(code), 'parses as a classic script');
  assert.ok(!/^\s*(var|let|const|function)\s/m.test(code.replace(/^\(|^!/, '')), 'all code is inside one closure');
});
