/** Every error the collector answers with, declared once with a stable code and status. */
export const COLLECTOR_ERRORS = Object.freeze({
  INVALID_JSON: { status: 400, error: 'invalid_json', message: 'the body is not valid JSON' },
  INVALID_BODY: { status: 400, error: 'invalid_body', message: 'the body is neither an event nor a batch of events' },
  BODY_TOO_LARGE: { status: 413, error: 'body_too_large', message: 'the body is larger than 64 KiB' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, error: 'unsupported_media_type', message: 'send application/json or text/plain' },
  RATE_LIMITED: { status: 429, error: 'rate_limited', message: 'too many requests from this address; retry later' },
  KAFKA_UNAVAILABLE: { status: 503, error: 'unavailable', message: 'events cannot be stored right now; nothing was accepted, retry later' },
} as const);

export type CollectorErrorCode = keyof typeof COLLECTOR_ERRORS;

export class CollectorError extends Error {
  readonly status: number;
  readonly error: string;
  constructor(
    readonly code: CollectorErrorCode,
    detail?: string,
  ) {
    const spec = COLLECTOR_ERRORS[code];
    super(detail ? `${spec.message}: ${detail}` : spec.message);
    this.status = spec.status;
    this.error = spec.error;
  }
}
