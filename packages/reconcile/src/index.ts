/** The exactness audit and the one reference model (README, "Exactness audit"). */
export { reconcile, ReconcileRefused, type ReconcileOptions, type ReconcileResult } from './reconcile.js';
export { parseReconcileEnv, type ReconcileEnv, type OperatorSettings } from './settings.js';
export { formatSummary, CHECKS, type CheckName, type ReconcileSummary } from './report.js';
export { latestReconcileRuns, storeReconcileRun, type ReconcileRun } from './run-store.js';
export { planRange, readRanges, type LogRecord, type TopicRange } from './log-reader.js';
export {
  referenceWindows,
  referenceKey,
  siteStatKey,
  presenceKey,
  toReferenceEvents,
  type ReferenceEvent,
  type ReferenceErasure,
  type ReferenceOutput,
  type ReferenceSettings,
  type ReferenceVisit,
  type ReferenceWindow,
} from './reference-model.js';
export {
  compareWithReference,
  compareVisitsWithReference,
  compareSiteAggregatesWithReference,
  compareWindowRows,
  compareWindowRecords,
  compareVisitRows,
  compareVisitRecords,
  compareSiteStats,
  comparePresence,
  compareLateIds,
  type Tally,
  type EngagementRule,
} from './comparison.js';
export { readUserMetrics, readUserSessions, readSiteAggregates, postgresMatches, SENTINEL_SITE } from './table-reader.js';
