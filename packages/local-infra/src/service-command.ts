import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** How one app is run: node's arguments and the folder to run them in. */
export interface ServiceCommand {
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
  return { cwd, args: words.slice(1), nodeFlags: words.slice(1, loader) };
}
