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
