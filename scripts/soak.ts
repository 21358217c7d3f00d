/**
 * `pnpm soak`: 30 minutes (--minutes) of steady traffic (--rate events/s) through the whole
 * platform on a private broker and PostgreSQL, sampled every 10 s into a CSV and a PNG plot under
 * test-results/soak/. The run lives in e2e/chaos/soak-run.ts, next to the chaos harness it reuses.
 */
await import('../e2e/chaos/soak-run.js');
