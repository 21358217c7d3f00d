/**
 * Which page origins may post events. `*` (the default) admits every origin: the collector is
 * public, like any analytics endpoint. With a list, other origins get 403 — refusing them
 * outright matters because `sendBeacon` and text/plain `fetch` skip the CORS preflight, so the
 * browser alone would not stop the events.
 */
export class OriginPolicy {
  private readonly any: boolean;
  private readonly allowed: Set<string>;

  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    this.allowed = new Set(origins.filter((o) => o !== '*'));
  }

  /** The Access-Control-Allow-Origin value for a request, or `false` when the origin is refused. */
  allowOrigin(origin: string | undefined): string | false {
    if (this.any) return '*';
    if (origin === undefined) return false;
    return this.allowed.has(origin) ? origin : false;
  }

  /** Requests without an Origin header (servers, curl) are not browsers posting from a page. */
  admits(origin: string | undefined): boolean {
    return origin === undefined || this.allowOrigin(origin) !== false;
  }

  get variesByOrigin(): boolean {
    return !this.any;
  }
}
