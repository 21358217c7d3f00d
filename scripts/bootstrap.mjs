// Entry of the root npm scripts. Plain Node with no dependencies, because it runs on a fresh
// clone: it installs the workspace when needed, then hands over to the TypeScript command.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const PNPM = 'pnpm@9.15.9';
const commands = new Set(['start', 'test', 'bench', 'typecheck', 'chaos', 'soak']);

function log(message) {
  process.stderr.write(`[clickstream] ${message}\n`);
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
ensureInstalled();

if (command === 'typecheck') {
  const tsc = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', root, '--noEmit'], { stdio: 'inherit' });
  process.exit(tsc.status ?? 1);
}

const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts', `${command}.ts`), ...args], {
  cwd: root,
  stdio: 'inherit',
});
// The child owns the shutdown: pass every signal on (Ctrl-C may deliver it twice, which the
// child tolerates) and wait for it to finish.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
// npm's `sh -c` layer can die without passing a signal on; when our parent is gone, stop too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) child.kill('SIGTERM');
}, 1000).unref();
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
