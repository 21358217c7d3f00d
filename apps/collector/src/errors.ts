/** Every error the collector answers with, declared once with a stable code and status. */
export const COLLECTOR_ERRORS = Object.freeze({
  INVALID_JSON: { status: 400, error: 'invalid_json', message: 'the body is not valid JSON' },
  INVALID_BODY: { status: 400, error: 'invalid_body', message: 'the body is neither an event nor a batch of events' },
  INVALID_EVENT: { status: 400, error: 'invalid_event', message: 'the event does not follow the schema' },
  FORBIDDEN_KEY: { status: 400, error: 'forbidden_key', message: 'keys named __proto__ or constructor.prototype are not accepted' },
  ORIGIN_NOT_ALLOWED: { status: 403, error: 'origin_not_allowed', message: 'this origin may not send events here' },
  NOT_FOUND: { status: 404, error: 'not_found', message: 'no such route' },
  BODY_TOO_LARGE: { status: 413, error: 'body_too_large', message: 'the body is larger than 64 KiB' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, error: 'unsupported_media_type', message: 'send application/json or text/plain' },
  RATE_LIMITED: { status: 429, error: 'rate_limited', message: 'too many requests from this address; retry later' },
  INTERNAL: { status: 500, error: 'internal', message: 'internal error' },
  KAFKA_UNAVAILABLE: { status: 503, error: 'unavailable', message: 'events cannot be stored right now; nothing was accepted, retry later' },
} as const);

export type CollectorErrorCode = keyof typeof COLLECTOR_ERRORS;

export class CollectorError extends Error {
  readonly status: number;
  readonly error: string;
  constructor(
    readonly code: CollectorErrorCode,
    detail?: string,
    /** Seconds for the Retry-After header of 429 and 503 answers. */
    readonly retryAfterSec?: number,
    /** Extra fields of the answer, e.g. the rejections of a single invalid event. */
    readonly extra?: Record<string, unknown>,
  ) {
    const spec = COLLECTOR_ERRORS[code];
    super(detail ? `${spec.message}: ${detail}` : spec.message);
    this.status = spec.status;
    this.error = spec.error;
  }
}
