/**
 * Builds the dashboard UI when dist/web is missing or older than its sources, so `npm start`
 * and the end-to-end tests always serve the UI that matches the code.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const dashboardDir = fileURLToPath(new URL('..', import.meta.url));
export const webOutDir = join(dashboardDir, 'dist', 'web');

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when the built UI is missing or any source it depends on is newer. */
export function uiNeedsBuild(): boolean {
  const builtIndex = join(webOutDir, 'index.html');
  if (!existsSync(builtIndex)) return true;
  const builtAt = statSync(builtIndex).mtimeMs;
  const sources = [join(dashboardDir, 'web'), join(dashboardDir, 'vite.config.ts')];
  return sources.some((source) => existsSync(source) && newestMtime(source) > builtAt);
}

/** Runs `vite build` in-process; the bundle-size plugin prints the initial JS size. */
export async function buildUi({ outDir, log = () => {} }: { outDir?: string; log?: (message: string) => void } = {}): Promise<void> {
  const { build } = await import('vite');
  const started = Date.now();
  // Vite builds React's development version when NODE_ENV says so (tests set it to "test");
  // what is served must be the production build whatever the caller's environment.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: join(dashboardDir, 'vite.config.ts'),
      mode: 'production',
      ...(outDir ? { build: { outDir, emptyOutDir: true } } : {}),
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  log(`dashboard UI built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export async function ensureUiBuilt(log: (message: string) => void = () => {}): Promise<boolean> {
  if (!uiNeedsBuild()) return false;
  log('building the dashboard UI (sources changed or no build yet)…');
  await buildUi({ log });
  return true;
}
