// Entry of the root npm scripts. Plain Node with no dependencies, because it runs on a fresh
// clone: it installs the workspace when needed, then hands over to the TypeScript command.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const PNPM = 'pnpm@9.15.9';
const commands = new Set(['start', 'test', 'bench', 'typecheck', 'chaos']);

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
// Ctrl-C reaches the whole foreground process group; the child owns the shutdown, so the
// bootstrapper only waits for it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (signal !== 'SIGINT') child.kill(signal);
  });
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
