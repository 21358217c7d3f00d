/** Rules of the workspace's manifests that no compiler checks. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '@clickstream/local-infra';

interface Manifest {
  name: string;
  exports?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** TypeScript sources under a top folder, as paths from the repository root; node_modules and dist left out (unread). */
function sourceFiles(top: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true }) as Dirent[]) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|tsx|mts)$/.test(entry.name)) files.push(path);
    }
  };
  walk(top);
  return files;
}

const manifest = (dir: string) => JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as Manifest;

test('one TypeBox line is installed', () => {
  const lock = readFileSync(join(repoRoot, 'pnpm-lock.yaml'), 'utf8');
  // Package entries of the lockfile: `  '@sinclair/typebox@0.34.52':` or `  typebox@1.4.3:`.
  const versions = new Set([...lock.matchAll(/^ {2}'?((?:@sinclair\/)?typebox)@(\d+\.\d+)\.\d+[^:]*'?:/gm)].map((m) => `${m[1]}@${m[2]}`));
  assert.ok(versions.size > 0, 'the lockfile lists TypeBox');
  assert.equal(versions.size, 1, `TypeBox lines in pnpm-lock.yaml: ${[...versions].join(', ')}`);
});

test("what Vite bundles into the web UI is a devDependency of the dashboard, out of the production image", () => {
  const dashboard = manifest('apps/dashboard');
  const webSrc = join(repoRoot, 'apps', 'dashboard', 'web', 'src');
  const bundled = new Set<string>();
  for (const file of readdirSync(webSrc, { recursive: true }) as string[]) {
    if (!/\.tsx?$/.test(file)) continue;
    for (const m of readFileSync(join(webSrc, file), 'utf8').matchAll(/^import[^'"]*['"]([^'".][^'"]*)['"]/gm)) {
      const parts = m[1]!.split('/');
      bundled.add(m[1]!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
    }
  }
  for (const name of ['react', 'react-dom', 'recharts']) assert.ok(bundled.has(name), `the UI imports ${name}`);
  for (const name of bundled) {
    if (name.startsWith('@clickstream/')) continue;
    assert.equal(dashboard.dependencies?.[name], undefined, `${name} is bundled by Vite, not a runtime dependency`);
    assert.ok(dashboard.devDependencies?.[name], `${name} is a devDependency of the dashboard`);
  }
});

test('the apps export named entry points only, and every deep import of an app is one of them', () => {
  const apps = ['collector', 'processor', 'dashboard'];
  const exported = new Map<string, Set<string>>();
  for (const app of apps) {
    const { name, exports = {} } = manifest(`apps/${app}`);
    const wildcards = Object.keys(exports).filter((key) => key.includes('*'));
    assert.deepEqual(wildcards, [], `${name} exports no wildcard`);
    exported.set(name, new Set(Object.keys(exports)));
  }
  const imports: string[] = [];
  for (const path of ['apps', 'packages', 'e2e', 'scripts'].flatMap(sourceFiles)) {
    const source = readFileSync(join(repoRoot, path), 'utf8');
    for (const m of source.matchAll(/from '(@clickstream\/(?:collector|processor|dashboard))(\/[^']*)?'/g)) {
      imports.push(`${path}: ${m[1]}${m[2] ?? ''}`);
      assert.ok(exported.get(m[1]!)?.has(`.${m[2] ?? ''}`), `${path} imports ${m[1]}${m[2] ?? ''}, which ${m[1]} does not export`);
    }
  }
  assert.ok(imports.length > 0, 'some code imports the apps (the end-to-end tests)');
});

test("no code outside an app imports the app's test files: shared test helpers live in @clickstream/local-infra/testing", () => {
  const offenders: string[] = [];
  const files = ['apps', 'packages', 'e2e', 'scripts'].flatMap(sourceFiles);
  for (const path of files) {
    const ownApp = /^apps\/([^/]+)\//.exec(path)?.[1];
    for (const m of readFileSync(join(repoRoot, path), 'utf8').matchAll(/from '([^']*\/apps\/([^/']+)\/test\/[^']*)'/g)) {
      if (m[2] !== ownApp) offenders.push(`${path} imports ${m[1]}`);
    }
  }
  assert.ok(files.length > 100, 'the workspace was scanned');
  assert.deepEqual(offenders, []);
});
