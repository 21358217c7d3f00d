/**
 * Builds the tracking snippet: terser alone gives the smallest output for this one-closure
 * source (a few bytes under esbuild's minifier after gzip). `pnpm --filter @clickstream/collector
 * build` writes dist/snippet.min.js and prints its size; the collector also builds it itself
 * when the file is missing, so a fresh clone runs without a build step.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { minify } from 'terser';

const here = dirname(fileURLToPath(import.meta.url));
export const SNIPPET_SOURCE = join(here, 'src', 'snippet.js');
export const SNIPPET_OUTPUT = join(here, '..', 'dist', 'snippet.min.js');
/** The size budget of the issue: 1.5 KB minified and gzipped. */
export const SNIPPET_BUDGET_GZIP_BYTES = 1536;

export interface BuiltSnippet {
  code: string;
  minBytes: number;
  gzipBytes: number;
  brotliBytes: number;
}

export async function buildSnippet(source = readFileSync(SNIPPET_SOURCE, 'utf8')): Promise<BuiltSnippet> {
  const result = await minify(source, {
    ecma: 2019,
    compress: { passes: 3, unsafe: true, unsafe_arrows: true, pure_getters: true },
    mangle: true,
    format: { comments: false },
  });
  if (!result.code) throw new Error('terser produced no code for the snippet');
  const code = `${result.code}\n`;
  return {
    code,
    minBytes: Buffer.byteLength(code),
    gzipBytes: gzipSync(code, { level: 9 }).length,
    brotliBytes: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** Writes the built snippet atomically: parallel test processes may build at the same time. */
export async function writeSnippet(output = SNIPPET_OUTPUT): Promise<BuiltSnippet> {
  const built = await buildSnippet();
  mkdirSync(dirname(output), { recursive: true });
  const temp = `${output}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temp, built.code);
  renameSync(temp, output);
  return built;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await writeSnippet();
  const verdict = built.gzipBytes <= SNIPPET_BUDGET_GZIP_BYTES ? 'within' : 'OVER';
  process.stdout.write(
    `snippet: ${built.minBytes} B minified, ${built.gzipBytes} B gzip, ${built.brotliBytes} B brotli ` +
      `(${verdict} the ${SNIPPET_BUDGET_GZIP_BYTES} B gzip budget) -> ${SNIPPET_OUTPUT}\n`,
  );
  if (verdict === 'OVER') process.exit(1);
}
