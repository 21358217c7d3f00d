import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { SNIPPET_OUTPUT, SNIPPET_SOURCE, writeSnippet } from '../snippet/build.js';

/** The snippet as served: compressed once at start-up, with a strong ETag of its content. */
export interface SnippetAsset {
  etag: string;
  identity: Buffer;
  gzip: Buffer;
  brotli: Buffer;
}

let loading: Promise<SnippetAsset> | undefined;

/** Loads dist/snippet.min.js, building it first when it is missing or older than its source. */
export function loadSnippetAsset(): Promise<SnippetAsset> {
  loading ??= (async () => {
    const stale = !existsSync(SNIPPET_OUTPUT) || statSync(SNIPPET_OUTPUT).mtimeMs < statSync(SNIPPET_SOURCE).mtimeMs;
    if (stale) await writeSnippet();
    return snippetAssetOf(readFileSync(SNIPPET_OUTPUT));
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

export function snippetAssetOf(code: Buffer): SnippetAsset {
  return {
    etag: `"${createHash('sha256').update(code).digest('base64url').slice(0, 22)}"`,
    identity: code,
    gzip: gzipSync(code, { level: 9 }),
    brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  };
}

/** Picks br over gzip over none from Accept-Encoding (q=0 means "not this one"). */
export function pickEncoding(acceptEncoding: string | undefined): 'br' | 'gzip' | undefined {
  if (!acceptEncoding) return undefined;
  const accepted = new Set<string>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) continue;
    if (name) accepted.add(name.trim());
  }
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return undefined;
}
