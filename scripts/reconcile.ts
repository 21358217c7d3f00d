/**
 * `pnpm reconcile --site <siteId> --from <time> --to <time>`: the exactness audit of a running
 * deployment (README, "Exactness audit"; `--help` for the options). Exit 0 when everything
 * matches, 1 on a difference, 2 on bad arguments or a range older than the raw topic's retention.
 */
import { runCli } from '@clickstream/reconcile/cli';

process.exitCode = await runCli(process.argv.slice(2));
// Anything a client library left open must not keep the command alive once the result is out.
setTimeout(() => process.exit(), 2000).unref();
