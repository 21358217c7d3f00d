/** Kafka topic names of the public contract. */
export const TOPICS = Object.freeze({
  clicks: 'website-clicks',
  metrics: 'user-metrics',
  sessions: 'user-sessions',
  late: 'website-clicks-late',
  invalid: 'website-clicks-invalid',
} as const);

export type TopicRole = keyof typeof TOPICS;
export type TopicNames = { readonly [K in TopicRole]: string };

export const DEFAULT_PARTITIONS = 6;

/**
 * Topics that hold raw events: they keep them at most RAW_RETENTION_DAYS (contract, "Erasure").
 * The results topics (`user-metrics`, `user-sessions`) keep the broker's default retention.
 */
export const RAW_TOPIC_ROLES: readonly TopicRole[] = Object.freeze(['clicks', 'late', 'invalid'] as const);
export const DEFAULT_RAW_RETENTION_DAYS = 7;
/**
 * Kafka deletes whole segments, once their newest record is past retention.ms: raw topics roll a
 * segment daily, so a raw event is gone at most a day (plus the broker's 5-minute retention check)
 * after RAW_RETENTION_DAYS, however little traffic the topic gets (the default, 7 days, would let
 * a quiet topic keep an event for up to twice the retention).
 */
export const RAW_SEGMENT_MS = 86_400_000;

/** Topic names with a prefix, so test runs and side-by-side deployments never collide. */
export function topicNames(prefix = ''): TopicNames {
  return Object.freeze({
    clicks: `${prefix}${TOPICS.clicks}`,
    metrics: `${prefix}${TOPICS.metrics}`,
    sessions: `${prefix}${TOPICS.sessions}`,
    late: `${prefix}${TOPICS.late}`,
    invalid: `${prefix}${TOPICS.invalid}`,
  });
}

/**
 * Retention of the results topics (`user-metrics`, `user-sessions`): one day, set where they are
 * created. Their history lives in PostgreSQL; the topics carry the live feed and consumers that
 * catch up within a day.
 */
export const RESULTS_RETENTION_MS = 86_400_000;
