import { Type, type Static } from '@sinclair/typebox';

/** One emitted window: the `user-metrics` value, the API's WindowResult and a `user_metrics` row. */
export const WindowResultSchema = Type.Object(
  {
    siteId: Type.String(),
    userId: Type.String(),
    windowStart: Type.String({ format: 'date-time' }),
    windowEnd: Type.String({ format: 'date-time' }),
    events: Type.Integer({ minimum: 0 }),
    pageViews: Type.Integer({ minimum: 0 }),
    clicks: Type.Integer({ minimum: 0 }),
    customEvents: Type.Integer({ minimum: 0 }),
    uniquePages: Type.Integer({ minimum: 0 }),
    engagedMs: Type.Integer({ minimum: 0 }),
    sessions: Type.Integer({ minimum: 0 }),
    revision: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type WindowResult = Static<typeof WindowResultSchema>;

/** Column names of `user_metrics`, keyed by the JSON field they hold. */
export const USER_METRICS_TABLE = 'user_metrics';
export const USER_METRICS_COLUMNS = Object.freeze({
  siteId: 'site_id',
  userId: 'user_id',
  windowStart: 'window_start',
  windowEnd: 'window_end',
  events: 'events',
  pageViews: 'page_views',
  clicks: 'clicks',
  customEvents: 'custom_events',
  uniquePages: 'unique_pages',
  engagedMs: 'engaged_ms',
  sessions: 'sessions',
  revision: 'revision',
} as const satisfies Record<keyof WindowResult, string>);

/** The identity of one emitted record: exactly-once means each appears once on `user-metrics`. */
export function windowRecordId(result: Pick<WindowResult, 'siteId' | 'userId' | 'windowStart' | 'revision'>): string {
  return JSON.stringify([result.siteId, result.userId, result.windowStart, result.revision]);
}
