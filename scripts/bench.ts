/**
 * `pnpm bench <name>`: runs `apps/<name>/bench/run.ts` (or `packages/<name>/bench/run.ts`, or
 * `bench/<name>.ts`) with Kafka and
 * PostgreSQL up, as `npm test` has them (KAFKA_BROKERS and DATABASE_URL set). Benchmarks print
 * their figures and their ratio against a baseline measured in the same run.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, serviceCommand, startEphemeralInfra } from '@clickstream/local-infra';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const [name, ...args] = process.argv.slice(2);

function benchFile(benchName: string): string | undefined {
  const candidates = [
    join(repoRoot, 'apps', benchName, 'bench', 'run.ts'),
    join(repoRoot, 'packages', benchName, 'bench', 'run.ts'),
    join(repoRoot, 'bench', `${benchName}.ts`),
  ];
  return candidates.find((c) => existsSync(c));
}

function available(): string[] {
  const names = ['apps', 'packages'].flatMap((dir) =>
    readdirSync(join(repoRoot, dir)).filter((name) => existsSync(join(repoRoot, dir, name, 'bench', 'run.ts'))),
  );
  if (existsSync(join(repoRoot, 'bench'))) {
    names.push(...readdirSync(join(repoRoot, 'bench')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)));
  }
  return names;
}

const file = name ? benchFile(name) : undefined;
if (!file) {
  log(`usage: pnpm bench <${available().join('|')}>`);
  process.exit(2);
}
const infra = await startEphemeralInfra(log);
let exitCode: number;
try {
  exitCode = await new Promise<number>((resolve) => {
    // --expose-gc lets a bench measure live heap after a full collection. An app's bench runs
    // its code in-process, so it gets the app's own runtime flags (its start script's).
    const appFlags = name === 'collector' || name === 'processor' || name === 'dashboard' ? serviceCommand(name).nodeFlags : [];
    const child = spawn(process.execPath, ['--expose-gc', ...appFlags, '--import', 'tsx', file, ...args], {
      cwd: repoRoot,
      stdio: 'inherit',
      env: { ...process.env, KAFKA_BROKERS: infra.brokers, DATABASE_URL: infra.databaseUrl },
    });
    process.on('SIGINT', () => child.kill('SIGINT'));
    child.on('exit', (code) => resolve(code ?? 1));
  });
} finally {
  await infra.stop();
}
process.exit(exitCode);
