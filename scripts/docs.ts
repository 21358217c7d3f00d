/**
 * `pnpm docs`: renders the reference in docs/reference/ from the code (scripts/lib/reference-docs.ts)
 * and removes files there that it no longer renders. `pnpm docs --check` only says whether the
 * files are current (exit 1 when not), as scripts/test/docs.test.ts does in `npm test`.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '@clickstream/local-infra';
import { renderReferenceDocs } from './lib/reference-docs.js';

const check = process.argv.includes('--check');
const docs = await renderReferenceDocs();
const referenceDir = join(repoRoot, 'docs', 'reference');
const present = existsSync(referenceDir) ? readdirSync(referenceDir).map((f) => `docs/reference/${f}`) : [];
const stale = [
  ...[...docs].filter(([path, text]) => !existsSync(join(repoRoot, path)) || readFileSync(join(repoRoot, path), 'utf8') !== text).map(([path]) => path),
  ...present.filter((path) => !docs.has(path)),
];
if (check) {
  process.stdout.write(stale.length === 0 ? 'docs/reference is current\n' : `stale (run pnpm docs): ${stale.join(', ')}\n`);
  process.exit(stale.length === 0 ? 0 : 1);
}
for (const [path, text] of docs) {
  mkdirSync(dirname(join(repoRoot, path)), { recursive: true });
  writeFileSync(join(repoRoot, path), text);
}
for (const path of present.filter((p) => !docs.has(p))) rmSync(join(repoRoot, path));
process.stdout.write(stale.length === 0 ? 'docs/reference was current\n' : `wrote ${stale.join(', ')}\n`);
// The dashboard app built for its OpenAPI document leaves nothing open, but prom-client's process
// metrics keep a timer: exit rather than wait for it.
process.exit(0);
