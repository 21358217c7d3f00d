import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root; local state lives in its git-ignored `.data/` folder. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const localDataDir = join(repoRoot, '.data');
