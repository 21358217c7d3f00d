import { Type, type Static } from '@sinclair/typebox';

/**
 * One visit (session window) as emitted: the `user-sessions` value and a `user_sessions` row
 * (contract, "Sessions (visits)"). Emitted early while open and revised as it grows.
 */
export const VisitResultSchema = Type.Object(
  {
    siteId: Type.String(),
    userId: Type.String(),
    sessionStart: Type.String({ format: 'date-time' }),
    sessionEnd: Type.String({ format: 'date-time' }),
    durationMs: Type.Integer({ minimum: 0 }),
    pageViews: Type.Integer({ minimum: 0 }),
    events: Type.Integer({ minimum: 0 }),
    entryPage: Type.Union([Type.String(), Type.Null()]),
    exitPage: Type.Union([Type.String(), Type.Null()]),
    source: Type.String(),
    utmSource: Type.Union([Type.String(), Type.Null()]),
    utmMedium: Type.Union([Type.String(), Type.Null()]),
    utmCampaign: Type.Union([Type.String(), Type.Null()]),
    country: Type.Union([Type.String(), Type.Null()]),
    browser: Type.String(),
    os: Type.String(),
    deviceType: Type.String(),
    bounce: Type.Boolean(),
    open: Type.Boolean(),
    revision: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type VisitResult = Static<typeof VisitResultSchema>;

/** `user-sessions` value saying the visit under that start no longer exists (merged, moved, erased). */
export interface VisitDeletionMarker {
  deleted: true;
  siteId: string;
  userId: string;
  sessionStart: string;
}

/** `user-metrics` value saying the window no longer exists (erased). */
export interface WindowDeletionMarker {
  deleted: true;
  siteId: string;
  userId: string;
  windowStart: string;
}

export const USER_SESSIONS_TABLE = 'user_sessions';

/** What a visit is attributed to when it has neither `utm_source` nor an outside referrer. */
export const DIRECT_SOURCE = 'Direct / None';

export interface VisitAttribution {
  source: string;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
}

const UTM_MAX = 256;

/**
 * Where a visit came from, from its first event: `utm_source` when the URL has one, else the
 * referrer's host (without `www.`) unless it is the site itself, else "Direct / None".
 */
export function visitAttributionOf(url: string, referrer: string | undefined): VisitAttribution {
  let params: URLSearchParams | undefined;
  const query = url.indexOf('?');
  if (query >= 0) {
    const hash = url.indexOf('#', query);
    params = new URLSearchParams(url.slice(query + 1, hash < 0 ? undefined : hash));
  }
  const utm = (name: string) => {
    const value = params?.get(name)?.trim();
    return value ? value.slice(0, UTM_MAX) : null;
  };
  const utmSource = utm('utm_source');
  const attribution = { utmSource, utmMedium: utm('utm_medium'), utmCampaign: utm('utm_campaign') };
  if (utmSource) return { source: utmSource, ...attribution };
  if (referrer) {
    try {
      const host = new URL(url).hostname.replace(/^www\./, '');
      const from = new URL(referrer);
      const referrerHost = from.hostname.replace(/^www\./, '');
      if ((from.protocol === 'http:' || from.protocol === 'https:') && referrerHost && referrerHost !== host) {
        return { source: referrerHost, ...attribution };
      }
    } catch {
      // An unparsable referrer says nothing about where the visit came from.
    }
  }
  return { source: DIRECT_SOURCE, ...attribution };
}
