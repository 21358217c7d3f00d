import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** How one app is run: the node binary, its arguments and the folder to run them in. */
export interface ServiceCommand {
  /**
   * The node binary: the one running this process (`process.execPath`), which is Node.js 24
   * under `npm start` and `npm test` (scripts/bootstrap.mjs fetches it when the machine's Node is
   * older), never whatever `node` the PATH finds.
   */
  node: string;
  cwd: string;
  /** Everything after `node`: V8 flags, the loader, the entry module. */
  args: string[];
  /** The V8 and Node flags alone, for running the app's code inside another script. */
  nodeFlags: string[];
}

/**
 * An app's `start` script is the one definition of how it runs (the Dockerfile's CMD is checked
 * against it), so `npm start`, the tests and the benches launch services through it and get the
 * same runtime flags as a deployment.
 */
export function serviceCommand(app: 'collector' | 'processor' | 'dashboard'): ServiceCommand {
  const cwd = join(repoRoot, 'apps', app);
  const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  const start = pkg.scripts?.start ?? '';
  const words = start.trim().split(/\s+/);
  const loader = words.indexOf('--import');
  if (words[0] !== 'node' || loader < 0 || words[loader + 1] !== 'tsx' || words.length !== loader + 3) {
    throw new Error(`apps/${app}: the start script must be "node [flags] --import tsx <entry>", found "${start}"`);
  }
  return { node: process.execPath, cwd, args: words.slice(1), nodeFlags: words.slice(1, loader) };
}
