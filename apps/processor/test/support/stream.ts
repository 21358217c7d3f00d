/**
 * The processor tests' stream helpers. They live where the chaos run and the audit's tests use
 * them too: event streams in @clickstream/local-infra/testing, whole-table readers keyed like the
 * reference model in @clickstream/reconcile.
 */
export { generateStream, produceStream, readTopicLog, seededRandom, sentinelEvent, type StreamOptions } from '@clickstream/local-infra/testing';
export { readSiteAggregates, readUserMetrics, readUserSessions } from '@clickstream/reconcile';
