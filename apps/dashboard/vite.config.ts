/**
 * Builds the dashboard UI (web/) into dist/web, which the dashboard server serves at `/`.
 * No React plugin: esbuild's automatic JSX runtime is all the UI needs, and it keeps the
 * toolchain to one dependency.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { bundleSizeReport } from './web/bundle-size.js';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: `${here}web`,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: `${here}dist/web`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1000,
  },
  plugins: [bundleSizeReport()],
});
