/**
 * The reference in docs/: generated pages are current, the tables they document are the tables
 * the migrations make, and the READMEs link into docs/ rather than outside the repository.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '@clickstream/local-infra';
import { createTestDatabase, queryRows, testScope } from '@clickstream/local-infra/testing';
import { documentedTables, fieldTable, renderReferenceDocs, typeOf } from '../lib/reference-docs.js';

test('docs/reference is what `pnpm docs` renders from the code now', async () => {
  const rendered = await renderReferenceDocs();
  assert.ok(rendered.size >= 8, 'the reference has its pages');
  const stale = [...rendered].filter(([path, text]) => !existsSync(join(repoRoot, path)) || readFileSync(join(repoRoot, path), 'utf8') !== text).map(([path]) => path);
  const extra = readdirSync(join(repoRoot, 'docs', 'reference'))
    .map((file) => `docs/reference/${file}`)
    .filter((path) => !rendered.has(path));
  assert.deepEqual(stale, [], 'stale pages: run `pnpm docs` and commit docs/reference');
  assert.deepEqual(extra, [], 'pages `pnpm docs` no longer renders: run `pnpm docs`, which removes them');
});

test('the rendered reference carries the schemas’ fields and limits, and stops at an undescribed field', async () => {
  const rendered = await renderReferenceDocs();
  const events = rendered.get('docs/reference/events.md')!;
  // A field of ClientEventSchema, with its limit, and an enriched-only field.
  assert.match(events, /^\| `userId` \| string, 1–128 characters \| yes \|/m);
  assert.match(events, /^\| `eventTime` \| number \| yes \|/m);
  assert.match(rendered.get('docs/reference/topics.md')!, /^\| `website-clicks-invalid` \| none \|/m);
  assert.match(rendered.get('docs/reference/collector-api.md')!, /^\| 429 \| `rate_limited` \|/m);
  assert.match(rendered.get('docs/reference/query-api.md')!, /^### `POST \/api\/v1\/query`$/m);
  assert.match(rendered.get('docs/reference/metrics.md')!, /`clickstream_processor_checkpoint_age_seconds` \| gauge/);
  assert.match(rendered.get('docs/reference/snippet.md')!, /^\| `data-ignore-gpc` \|/m);
  assert.equal(typeOf({ anyOf: [{ const: 'a' }, { const: 'b' }] }), 'one of `a`, `b`');
  assert.equal(typeOf({ anyOf: [{ type: 'string' }, { type: 'null' }] }), 'string or null');
  assert.equal(typeOf({ type: 'integer', minimum: 1, maximum: 1000, default: 10 }), 'integer 1–1,000; default `10`');
  // A schema field nobody described, or a description of a field the schema lost, stops the rendering.
  const schema = { type: 'object', required: ['a'], properties: { a: { type: 'string' }, b: { type: 'number' } } };
  assert.throws(() => fieldTable('S', schema, { a: 'A.' }), /S: fields without a description: b/);
  assert.throws(() => fieldTable('S', schema, { a: 'A.', b: 'B.', c: 'C.' }), /S: described fields that the schema does not have: c/);
  assert.match(fieldTable('S', schema, { a: 'A.', b: 'B.' }), /^\| `a` \| string \| yes \| A\. \|$/m);
});

test('every table the reference documents has exactly those columns, types and nullability after the migrations', async (t) => {
  const databaseUrl = await createTestDatabase(testScope(t));
  const problems: string[] = [];
  for (const table of documentedTables()) {
    const rows = await queryRows<{ column_name: string; data_type: string; udt_name: string; is_nullable: string }>(
      databaseUrl,
      `SELECT column_name, data_type, udt_name, is_nullable FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
      [table.name],
    );
    if (rows.length === 0) {
      problems.push(`${table.name}: no such table`);
      continue;
    }
    const actual = rows.map((r) => {
      const type = r.data_type === 'ARRAY' ? `${r.udt_name.replace(/^_/, '')}[]` : r.data_type === 'timestamp with time zone' ? 'timestamptz' : r.data_type;
      return `${r.column_name} ${type.replace(/^timestamptz\[\]$/, 'timestamptz[]')}${r.is_nullable === 'YES' ? ' null' : ''}`;
    });
    const documented = table.columns.map((c) => `${c.name} ${c.sql}${c.nullable ? ' null' : ''}`);
    const missing = documented.filter((c) => !actual.includes(c));
    const undocumented = actual.filter((c) => !documented.includes(c));
    if (missing.length > 0) problems.push(`${table.name}: documented but not so in the database: ${missing.join(', ')}`);
    if (undocumented.length > 0) problems.push(`${table.name}: in the database but not documented: ${undocumented.join(', ')}`);
  }
  assert.deepEqual(problems, []);
});

/** Markdown files users read: the READMEs, the architecture notes and docs/. */
function userDocs(): string[] {
  const files = ['README.md', 'ARCHITECTURE.md', 'RELIABILITY.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  for (const dir of ['apps', 'packages', 'docs']) walk(dir);
  return files.filter((f) => existsSync(join(repoRoot, f)));
}

/** GitHub's anchors of a Markdown file's headings. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of markdown.matchAll(/^#{1,6} +(.+)$/gm)) {
    const slug = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

test('the docs link only to files of this repository, and every link and anchor resolves', () => {
  const files = userDocs();
  assert.ok(files.includes('docs/README.md') && files.includes('apps/collector/README.md'), 'the READMEs are read');
  const problems: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(repoRoot, file), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const resolved = path === '' ? join(repoRoot, file) : join(repoRoot, dirname(file), path);
      const inRepo = relative(repoRoot, resolved);
      if (inRepo.startsWith('..')) {
        problems.push(`${file}: ${target} is outside the repository`);
        continue;
      }
      if (!existsSync(resolved)) {
        problems.push(`${file}: ${target} does not exist`);
        continue;
      }
      if (anchor && resolved.endsWith('.md') && !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) problems.push(`${file}: ${target} names no heading`);
    }
    if (/\.\.\/shared\/|CONTRACT\.md/.test(text)) problems.push(`${file}: refers to the contract outside the repository`);
  }
  assert.deepEqual(problems, []);
});
