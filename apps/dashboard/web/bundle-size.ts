/**
 * Reports the gzipped size of the JavaScript a first visit downloads before the dashboard can
 * render: the entry chunk plus every chunk it imports statically. Lazily loaded chunks do not
 * count. The figure is printed and written to dist/web/bundle-size.json for the budget test.
 */
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

export const INITIAL_JS_BUDGET_BYTES = 250 * 1024;

export interface BundleSize {
  initialJsBytes: number;
  initialJsGzipBytes: number;
  chunks: Array<{ file: string; gzipBytes: number; initial: boolean }>;
  budgetGzipBytes: number;
}

interface ChunkLike {
  type: 'chunk';
  fileName: string;
  code: string;
  isEntry: boolean;
  imports: string[];
}

/** Pure: which chunks load before first render, and how big they are gzipped. */
export function measureInitialJs(chunks: readonly ChunkLike[]): BundleSize {
  const byName = new Map(chunks.map((c) => [c.fileName, c]));
  const initial = new Set<string>();
  const visit = (name: string) => {
    if (initial.has(name)) return;
    initial.add(name);
    for (const dep of byName.get(name)?.imports ?? []) visit(dep);
  };
  for (const chunk of chunks) if (chunk.isEntry) visit(chunk.fileName);
  let initialJsBytes = 0;
  let initialJsGzipBytes = 0;
  const rows = chunks.map((c) => {
    const gzipBytes = gzipSync(c.code, { level: 9 }).length;
    if (initial.has(c.fileName)) {
      initialJsBytes += Buffer.byteLength(c.code);
      initialJsGzipBytes += gzipBytes;
    }
    return { file: c.fileName, gzipBytes, initial: initial.has(c.fileName) };
  });
  return { initialJsBytes, initialJsGzipBytes, chunks: rows, budgetGzipBytes: INITIAL_JS_BUDGET_BYTES };
}

export function bundleSizeReport(): Plugin {
  return {
    name: 'clickstream-bundle-size',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks = Object.values(bundle).filter((o): o is typeof o & ChunkLike => o.type === 'chunk');
      const size = measureInitialJs(chunks);
      const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
      const verdict = size.initialJsGzipBytes <= size.budgetGzipBytes ? 'within' : 'OVER';
      process.stdout.write(
        `dashboard initial JS: ${kb(size.initialJsGzipBytes)} gzipped (${kb(size.initialJsBytes)} raw), ` +
          `${verdict} the ${kb(size.budgetGzipBytes)} budget\n`,
      );
      this.emitFile({ type: 'asset', fileName: 'bundle-size.json', source: `${JSON.stringify(size, null, 2)}\n` });
    },
  };
}
