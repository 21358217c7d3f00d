// Entry of the root npm scripts. Plain Node with no dependencies, because it runs on a fresh
// clone and on whatever Node the machine has (20 or later): it fetches Node.js 24 into .data/
// when the machine's is older and runs itself again on it, installs the workspace when needed,
// then hands over to the TypeScript command. Everything below it - pnpm, tsx, the tests, the
// services - runs on the same Node.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchNode, needsNewerNode, NODE_MAJOR } from './node-runtime.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const PNPM = 'pnpm@9.15.9';
// `version` prints the Node.js version the commands run on (the bootstrap's own test uses it).
const commands = new Set(['start', 'test', 'bench', 'typecheck', 'lint', 'chaos', 'soak', 'reconcile', 'docs', 'version']);
const REEXEC_MARKER = 'CLICKSTREAM_BOOTSTRAP_NODE';

function log(message) {
  process.stderr.write(`[clickstream] ${message}\n`);
}

/**
 * Runs a child with the terminal, passes every signal on (Ctrl-C may deliver it twice, which the
 * child tolerates) and exits with its code. npm's `sh -c` layer can die without passing a signal
 * on; when our parent is gone, the child is stopped too.
 */
function handOver(file, args, env = process.env) {
  const child = spawn(file, args, { cwd: root, stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => child.kill(signal));
  }
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) child.kill('SIGTERM');
  }, 1000).unref();
  child.on('error', (error) => {
    log(`could not run ${file}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

function installIsCurrent() {
  const marker = join(root, 'node_modules', '.pnpm', 'lock.yaml');
  const lock = join(root, 'pnpm-lock.yaml');
  if (!existsSync(marker)) return false;
  if (!existsSync(lock)) return true;
  return statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
}

function ensureInstalled() {
  if (installIsCurrent()) return;
  log(`installing dependencies with ${PNPM} (first run only)…`);
  const frozen = existsSync(join(root, 'pnpm-lock.yaml')) && process.env.CI ? ['--frozen-lockfile'] : [];
  const result = spawnSync('npx', ['--yes', PNPM, 'install', ...frozen], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  if (result.status !== 0) {
    log('dependency installation failed; see the output above');
    process.exit(result.status ?? 1);
  }
}

const [command = 'start', ...args] = process.argv.slice(2);
if (!commands.has(command)) {
  log(`unknown command "${command}"; expected one of ${[...commands].join(', ')}`);
  process.exit(2);
}

if (needsNewerNode(process.versions.node)) {
  if (process.env[REEXEC_MARKER]) {
    log(`${process.env[REEXEC_MARKER]} runs Node.js ${process.versions.node}, not ${NODE_MAJOR}; install Node.js ${NODE_MAJOR} (https://nodejs.org)`);
    process.exit(1);
  }
  let node;
  try {
    node = fetchNode(root, { log });
  } catch (error) {
    log(error.message);
    process.exit(1);
  }
  // Its folder goes first on PATH, so that npx, pnpm and every `#!/usr/bin/env node` below run
  // on it too; services are spawned with process.execPath, which is this binary.
  const env = { ...process.env, [REEXEC_MARKER]: node, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` };
  handOver(node, [fileURLToPath(import.meta.url), command, ...args], env);
} else if (command === 'version') {
  process.stdout.write(`${process.version} ${process.execPath}\n`);
} else {
  ensureInstalled();
  // typecheck and lint are the checks `npm test` runs first (scripts/check.ts).
  const script = command === 'typecheck' ? 'check.ts' : command === 'lint' ? 'check.ts' : `${command}.ts`;
  const extra = command === 'typecheck' ? ['--types'] : command === 'lint' ? ['--lint'] : [];
  handOver(process.execPath, ['--import', 'tsx', join(root, 'scripts', script), ...extra, ...args]);
}
