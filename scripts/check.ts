/**
 * The static checks `npm test` runs before any test: `tsc --noEmit` for the root tsconfig (every
 * app, package, test, bench and script) and for the web UI's own tsconfig, and ESLint
 * (eslint.config.js). Run alone: `npm run typecheck` (types), `npm run lint` (ESLint).
 *
 * The three run side by side and each one's output is printed when it finishes, so the run
 * takes about as long as the slowest (ESLint, which builds the same programs for its type-aware
 * rules).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '@clickstream/local-infra';

export interface CheckResult {
  name: string;
  ok: boolean;
  seconds: number;
  output: string;
}

const require = createRequire(join(repoRoot, 'package.json'));

function binOf(pkg: string, bin: string): string {
  const manifest = require.resolve(`${pkg}/package.json`);
  const bins = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin;
  return join(dirname(manifest), bins[bin]!);
}

/** The checks, as node invocations; `tsconfig` of the web UI is outside the root one. */
export function checkCommands(which: { types: boolean; lint: boolean }): Array<{ name: string; args: string[] }> {
  const tsc = binOf('typescript', 'tsc');
  return [
    ...(which.types
      ? [
          { name: 'tsc (tsconfig.json)', args: [tsc, '-p', join(repoRoot, 'tsconfig.json'), '--noEmit', '--pretty', 'false'] },
          {
            name: 'tsc (apps/dashboard/web/tsconfig.json)',
            args: [tsc, '-p', join(repoRoot, 'apps', 'dashboard', 'web', 'tsconfig.json'), '--noEmit', '--pretty', 'false'],
          },
        ]
      : []),
    ...(which.lint ? [{ name: 'eslint', args: [binOf('eslint', 'eslint'), '--max-warnings=0', repoRoot] }] : []),
  ];
}

function run(name: string, args: string[]): Promise<CheckResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ name, ok: false, seconds: (Date.now() - started) / 1000, output: error.message }));
    child.on('close', (code) => resolve({ name, ok: code === 0, seconds: (Date.now() - started) / 1000, output }));
  });
}

/** Runs the checks; prints each one's result as it ends. True when all passed. */
export async function runChecks(which: { types: boolean; lint: boolean }, log: (message: string) => void): Promise<boolean> {
  const started = Date.now();
  const results = await Promise.all(
    checkCommands(which).map(async ({ name, args }) => {
      const result = await run(name, args);
      const body = result.output.trim();
      log(`${result.ok ? 'ok' : 'FAILED'}: ${name} (${result.seconds.toFixed(1)} s)${!result.ok && body ? `\n${body}` : ''}`);
      return result;
    }),
  );
  const failed = results.filter((r) => !r.ok);
  log(
    failed.length === 0
      ? `${results.map((r) => r.name).join(', ')} passed in ${((Date.now() - started) / 1000).toFixed(1)} s`
      : `${failed.map((r) => r.name).join(', ')} failed; fix the errors above`,
  );
  return failed.length === 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const types = args.includes('--types') || !args.includes('--lint');
  const lint = args.includes('--lint') || !args.includes('--types');
  const ok = await runChecks({ types, lint }, (message) => process.stderr.write(`[check] ${message}\n`));
  process.exit(ok ? 0 : 1);
}
