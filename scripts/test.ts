/**
 * `npm test`: every test of the workspace, against a real Kafka broker started here (free ports,
 * a throw-away folder) and a real PostgreSQL (tests make a fresh database each). Pass paths or
 * folder names to run a subset: `npm test -- apps/processor`.
 *
 * TEST_KAFKA_BROKERS reuses a running broker instead of starting one (random topic names keep
 * runs apart); DATABASE_URL picks the PostgreSQL server.
 *
 * A full run (what CI runs) starts with the static checks (scripts/check.ts: tsc for the root
 * and the web UI's tsconfig, ESLint); a type or lint error fails it before any test starts.
 * A subset run skips them unless `--checks` is given.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureChromium, repoRoot, startEphemeralInfra } from '@clickstream/local-infra';
import { runChecks } from './check.js';

const log = (message: string) => process.stderr.write(`[test] ${message}\n`);
const args = process.argv.slice(2);
const filters = args.filter((a) => a !== '--checks');
const checks = filters.length === 0 || args.includes('--checks');

function findTestFiles(): string[] {
  const files: string[] = [];
  for (const root of ['apps', 'packages', 'scripts', 'e2e'].map((d) => join(repoRoot, d))) {
    let entries: string[];
    try {
      entries = readdirSync(root, { recursive: true }) as string[];
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.includes('node_modules') || !entry.endsWith('.test.ts')) continue;
      const full = join(root, entry);
      if (statSync(full).isFile()) files.push(full);
    }
  }
  const wanted = (f: string) => filters.some((filter) => relative(repoRoot, f).includes(filter.replace(/^\.\//, '')));
  return (filters.length === 0 ? files : files.filter(wanted)).sort();
}

const files = findTestFiles();
if (files.length === 0) {
  log(`no test files match ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}

const started = Date.now();
if (checks && !(await runChecks({ types: true, lint: true }, log))) {
  log('not running the tests: the checks failed');
  process.exit(1);
}
let exitCode = 1;
let infra: Awaited<ReturnType<typeof startEphemeralInfra>> | undefined;
try {
  infra = await startEphemeralInfra(log);
  if (files.some((f) => f.endsWith('.browser.test.ts'))) ensureChromium(log);
  const env = { ...process.env, KAFKA_BROKERS: infra.brokers, DATABASE_URL: infra.databaseUrl, NODE_ENV: 'test' };
  log(`running ${files.length} test files`);
  exitCode = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=spec',
        `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`,
        '--test-timeout=600000',
        // A test file whose tests all finished must not hold the run hostage with a stray socket.
        '--test-force-exit',
        ...files,
      ],
      { cwd: repoRoot, stdio: 'inherit', env },
    );
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
} catch (error) {
  log(`could not run the tests: ${(error as Error).stack ?? error}`);
  exitCode = 1;
} finally {
  await infra?.stop();
  log(`tests finished in ${((Date.now() - started) / 1000).toFixed(1)} s (exit ${exitCode})`);
}
process.exit(exitCode);
