/**
 * The static checks of `npm test` (scripts/check.ts) cover every TypeScript file of the project:
 * a file outside both tsconfigs would be neither type-checked nor linted with types.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { relative } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '@clickstream/local-infra';
import { checkCommands } from '../check.js';

test('the checks are tsc for both tsconfigs and ESLint', () => {
  const names = checkCommands({ types: true, lint: true }).map((c) => c.name);
  assert.deepEqual(names, ['tsc (tsconfig.json)', 'tsc (apps/dashboard/web/tsconfig.json)', 'eslint']);
  assert.deepEqual(checkCommands({ types: false, lint: true }).map((c) => c.name), ['eslint']);
});

test('every tracked .ts/.tsx file is in the root or the web UI tsconfig', () => {
  const tracked = execFileSync('git', ['ls-files', '-z', '*.ts', '*.tsx', '*.mts', '*.cts'], { cwd: repoRoot, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '');
  assert.ok(tracked.length > 50, 'git lists the sources');
  const covered = new Set<string>();
  for (const { args } of checkCommands({ types: true, lint: false })) {
    const [tsc, ...rest] = args;
    const listed = execFileSync(process.execPath, [tsc!, ...rest.filter((a) => a !== '--noEmit'), '--listFilesOnly'], {
      cwd: repoRoot,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    for (const file of listed.split('\n')) if (file.trim()) covered.add(relative(repoRoot, file.trim()));
  }
  const outside = tracked.filter((f) => !covered.has(f) && !f.endsWith('.d.ts'));
  assert.deepEqual(outside, [], 'TypeScript files no tsconfig includes');
});
