/**
 * `npm test`: every test of the workspace, against a real Kafka broker started here (free ports,
 * a throw-away folder) and a real PostgreSQL (one fresh database per test file, made by the
 * tests themselves). Pass paths or folder names to run a subset: `npm test -- apps/processor`.
 *
 * TEST_KAFKA_BROKERS reuses a running broker instead of starting one (random topic names keep
 * runs apart); DATABASE_URL picks the PostgreSQL server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureDatabase } from '@clickstream/db';
import { ensureChromium, ensurePostgres, freePort, KafkaBroker, localDataDir, repoRoot } from '@clickstream/local-infra';

const log = (message: string) => process.stderr.write(`[test] ${message}\n`);
const filters = process.argv.slice(2);

function findTestFiles(): string[] {
  const roots = ['apps', 'packages', 'e2e'].map((d) => join(repoRoot, d));
  const files: string[] = [];
  for (const root of roots) {
    let entries: string[];
    try {
      entries = readdirSync(root, { recursive: true }) as string[];
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.includes('node_modules')) continue;
      if (!/\.test\.ts$/.test(entry)) continue;
      const full = join(root, entry);
      if (statSync(full).isFile()) files.push(full);
    }
  }
  const selected = filters.length === 0
    ? files
    : files.filter((f) => filters.some((filter) => relative(repoRoot, f).includes(filter.replace(/^\.\//, ''))));
  return selected.sort();
}

const files = findTestFiles();
if (files.length === 0) {
  log(`no test files match ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}

const cleanups: Array<() => Promise<void> | void> = [];
async function cleanup(): Promise<void> {
  for (const step of cleanups.reverse()) {
    try {
      await step();
    } catch (error) {
      log(`cleanup step failed: ${(error as Error).message}`);
    }
  }
}

let exitCode = 1;
try {
  const started = Date.now();
  let brokers = process.env.TEST_KAFKA_BROKERS;
  if (!brokers) {
    const dataDir = mkdtempSync(join(tmpdir(), 'clickstream-test-kafka-'));
    const broker = new KafkaBroker({
      dataDir,
      port: await freePort(),
      controllerPort: await freePort(),
      log,
      // Tests kill processes mid-transaction; a short cap keeps read_committed readers moving.
      overrides: { 'transaction.max.timeout.ms': 60_000 },
    });
    await broker.start();
    cleanups.push(async () => {
      await broker.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    brokers = broker.brokers.join(',');
    log(`Kafka broker up at ${brokers} in ${Date.now() - started} ms`);
  }

  const postgres = await ensurePostgres({ databaseUrl: process.env.DATABASE_URL, dataDir: join(localDataDir, 'postgres'), log });
  cleanups.push(() => postgres.stop());
  const databaseUrl = `${postgres.serverUrl}/postgres`;
  await ensureDatabase(databaseUrl);
  log(`PostgreSQL: ${postgres.source} (${postgres.serverUrl})`);

  if (files.some((f) => f.includes(`${join(repoRoot, 'e2e')}`) || f.includes('.browser.test.ts'))) ensureChromium(log);

  const env = {
    ...process.env,
    KAFKA_BROKERS: brokers,
    DATABASE_URL: databaseUrl,
    NODE_ENV: 'test',
  };
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
        ...files,
      ],
      { cwd: repoRoot, stdio: 'inherit', env },
    );
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  log(`tests finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  log(`could not run the tests: ${(error as Error).stack ?? error}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
