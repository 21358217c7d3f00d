/** Every error the dashboard answers with, declared once with a stable code and HTTP status. */
export const DASHBOARD_ERRORS = Object.freeze({
  INVALID_PARAMETER: { status: 400, error: 'invalid_parameter', message: 'a parameter is invalid' },
  INVALID_TIME: { status: 400, error: 'invalid_time', message: 'give times as ISO-8601 (2024-01-31T12:00:00Z) or milliseconds since the epoch' },
  INVALID_RANGE: { status: 400, error: 'invalid_range', message: 'the time range is invalid' },
  INVALID_REQUEST: { status: 400, error: 'invalid_request', message: 'the request is malformed' },
  UNAUTHORIZED: { status: 401, error: 'unauthorized', message: 'send Authorization: Bearer <token>, with API_TOKEN or one of API_READ_TOKENS' },
  FORBIDDEN: { status: 403, error: 'forbidden', message: 'this token may only read; erasing needs API_TOKEN' },
  FORBIDDEN_ORIGIN: { status: 403, error: 'forbidden_origin', message: 'this Origin may not open the live feed; add it to DASHBOARD_ALLOWED_ORIGINS' },
  NOT_FOUND: { status: 404, error: 'not_found', message: 'no such route' },
  // The request is well formed; the resource it names is absent.
  UNKNOWN_USER: { status: 404, error: 'unknown_user', message: 'no metrics are stored for this user on this site' },
  UPGRADE_REQUIRED: { status: 426, error: 'upgrade_required', message: '/api/v1/live is a WebSocket: connect with ws:// or wss://' },
  METHOD_NOT_ALLOWED: { status: 405, error: 'method_not_allowed', message: 'this method is not served here' },
  TOO_MANY_CLIENTS: { status: 503, error: 'too_many_clients', message: 'the live feed has as many clients as it may serve; retry later' },
  UNAVAILABLE: { status: 503, error: 'unavailable', message: 'the metrics store cannot answer right now; retry later' },
} as const);

export type DashboardErrorCode = keyof typeof DASHBOARD_ERRORS;

export class DashboardError extends Error {
  readonly status: number;
  readonly error: string;
  constructor(
    readonly code: DashboardErrorCode,
    detail?: string,
  ) {
    const spec = DASHBOARD_ERRORS[code];
    super(detail ?? spec.message);
    this.name = 'DashboardError';
    this.status = spec.status;
    this.error = spec.error;
  }

  toJSON(): { error: string; message: string } {
    return { error: this.error, message: this.message };
  }
}
