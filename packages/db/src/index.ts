export { migrate } from './migrate.js';
export { ensureDatabase, databaseName, redact } from './database.js';
