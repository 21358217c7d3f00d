import pg from 'pg';
import { migrate } from '@clickstream/db';
import { loadConfigOrExit } from '@clickstream/shared';
import { buildDashboardApp } from './app.js';
import { parseDashboardConfig } from './env.js';

const config = loadConfigOrExit(() => parseDashboardConfig());
await migrate(config.databaseUrl);
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, application_name: 'clickstream-dashboard' });
pool.on('error', () => {});
const app = buildDashboardApp({ config, pool });
await app.listen({ port: config.port, host: config.host });
process.stdout.write(`dashboard listening on http://localhost:${config.port}\n`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.close();
  await pool.end();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
