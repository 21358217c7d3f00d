/**
 * `pnpm chaos`: the long chaos run (README: RELIABILITY.md). Options:
 *   --faults <n> (default 24)  --seed <n> (default 1)  --rate <events/s> (default 150)
 *   --kinds a,b,…  (default every kind: kill-processor, kill-collector, restart-kafka,
 *                   restart-postgres, second-processor, add-partitions)
 * Prints the figures (and what `pnpm reconcile` over the run's range says), writes them to
 * test-results/chaos-report.json, exits 1 on any loss, double count or disagreement.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '@clickstream/local-infra';
import { FAULT_KINDS, formatReport, runChaos, type FaultKind } from '../e2e/chaos/run.js';

const { values } = parseArgs({
  options: {
    faults: { type: 'string', default: '24' },
    seed: { type: 'string', default: '1' },
    rate: { type: 'string', default: '150' },
    kinds: { type: 'string', default: FAULT_KINDS.join(',') },
  },
});
const kinds = values.kinds.split(',').map((k) => k.trim());
for (const kind of kinds) {
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
    process.stderr.write(`unknown fault kind "${kind}"; expected some of ${FAULT_KINDS.join(', ')}\n`);
    process.exit(2);
  }
}
const started = Date.now();
const report = await runChaos({
  seed: Number(values.seed),
  faults: Number(values.faults),
  kinds: kinds as FaultKind[],
  eventsPerSec: Number(values.rate),
  reconcile: true,
  log: (m) => process.stderr.write(`[chaos] ${m}\n`),
});
const text = formatReport(report);
process.stdout.write(`\n${text}\nwall time ${Math.round((Date.now() - started) / 1000)} s\n`);
const out = join(repoRoot, 'test-results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'chaos-report.json'), JSON.stringify(report, null, 2));
process.exit(report.problems.length === 0 && report.lost === 0 && report.doubleCounted === 0 ? 0 : 1);
