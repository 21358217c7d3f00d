export { migrate } from './migrate.js';
export { ensureDatabase, databaseName, redact } from './database.js';
export { toWindowResult, type UserMetricsRow } from './user-metrics-row.js';
export { upsertWindowResults } from './upsert-window-results.js';
export { upsertVisitResults, toVisitResult, type UserSessionsRow } from './upsert-visit-results.js';
export { writeSiteStats, type SiteStatRow, type PresenceRowInput } from './write-site-stats.js';
export {
  recordErasure,
  pendingErasureMarkers,
  markErasureMarkersSent,
  readOutboxHighWater,
  outboxEntriesBelow,
  type ErasureRecord,
  type ErasureResult,
  type OutboxMark,
} from './erasure.js';
export {
  maintainPartitions,
  listPartitions,
  periodStart,
  nextPeriod,
  partitionName,
  PARTITIONED_TABLES,
  PERIODS_AHEAD,
  type PartitionedTable,
  type PartitionInfo,
  type PartitionUnit,
  type PartitionMaintenanceOptions,
  type PartitionMaintenanceResult,
} from './partitions.js';
