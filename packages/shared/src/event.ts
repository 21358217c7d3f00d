import { Type, type Static } from '@sinclair/typebox';

/** Limits of the contract ("Browser → collector"), in one place. */
export const EVENT_LIMITS = Object.freeze({
  maxBodyBytes: 64 * 1024,
  maxBatchEvents: 100,
  idMin: 8,
  idMax: 64,
  siteIdMax: 64,
  userIdMax: 128,
  sessionIdMax: 128,
  urlMax: 2048,
  referrerMax: 2048,
  titleMax: 512,
  targetFieldMax: 256,
  maxEngagedMs: 600_000,
  customNameMax: 64,
  customPropsMax: 20,
  customPropStringMax: 256,
});

export const EVENT_TYPES = ['page_view', 'click', 'engagement', 'custom'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const DEFAULT_SITE_ID = 'default';

const L = EVENT_LIMITS;

export const ClickTargetSchema = Type.Object(
  {
    tag: Type.String({ minLength: 1, maxLength: L.targetFieldMax }),
    id: Type.Optional(Type.String({ maxLength: L.targetFieldMax })),
    text: Type.Optional(Type.String({ maxLength: L.targetFieldMax })),
    href: Type.Optional(Type.String({ maxLength: L.targetFieldMax })),
  },
  { additionalProperties: false },
);

export const CustomPropsSchema = Type.Record(
  Type.String({ minLength: 1, maxLength: L.customNameMax }),
  Type.Union([
    Type.String({ maxLength: L.customPropStringMax }),
    Type.Number(),
    Type.Boolean(),
  ]),
  { maxProperties: L.customPropsMax },
);

/**
 * One event as a browser sends it. Fields that belong to one type only are checked by
 * `eventTypeErrors`, because a union schema would report unreadable errors.
 */
export const ClientEventSchema = Type.Object(
  {
    id: Type.String({ minLength: L.idMin, maxLength: L.idMax }),
    type: Type.Union(EVENT_TYPES.map((t) => Type.Literal(t))),
    siteId: Type.Optional(Type.String({ minLength: 1, maxLength: L.siteIdMax, pattern: '^[A-Za-z0-9._-]+$' })),
    userId: Type.String({ minLength: 1, maxLength: L.userIdMax }),
    sessionId: Type.String({ minLength: 1, maxLength: L.sessionIdMax }),
    ts: Type.Number({ minimum: 0, maximum: 8.64e15 }),
    url: Type.String({ minLength: 1, maxLength: L.urlMax, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' }),
    referrer: Type.Optional(Type.String({ maxLength: L.referrerMax })),
    title: Type.Optional(Type.String({ maxLength: L.titleMax })),
    target: Type.Optional(ClickTargetSchema),
    engagedMs: Type.Optional(Type.Number({ minimum: 0, maximum: L.maxEngagedMs })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: L.customNameMax })),
    props: Type.Optional(CustomPropsSchema),
  },
  { additionalProperties: false },
);
export type ClientEvent = Static<typeof ClientEventSchema>;

export const EventBatchSchema = Type.Object(
  {
    sentAt: Type.Optional(Type.Number({ minimum: 0, maximum: 8.64e15 })),
    events: Type.Array(Type.Unknown(), { minItems: 1, maxItems: L.maxBatchEvents }),
  },
  { additionalProperties: false },
);
export type EventBatch = Static<typeof EventBatchSchema>;

/** Rules the flat schema cannot say: which fields belong to which event type. */
export function eventTypeErrors(event: ClientEvent): string[] {
  const errors: string[] = [];
  const only = (field: keyof ClientEvent, type: EventType) => {
    if (event[field] !== undefined && event.type !== type) errors.push(`/${field}: only allowed on "${type}" events`);
  };
  only('target', 'click');
  only('engagedMs', 'engagement');
  only('name', 'custom');
  only('props', 'custom');
  if (event.type === 'engagement' && event.engagedMs === undefined) errors.push('/engagedMs: required on "engagement" events');
  if (event.type === 'custom' && event.name === undefined) errors.push('/name: required on "custom" events');
  try {
    const url = new URL(event.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') errors.push('/url: must be an absolute http(s) URL');
  } catch {
    errors.push('/url: must be an absolute http(s) URL');
  }
  return errors;
}

export const DEVICE_TYPES = ['desktop', 'mobile', 'tablet', 'bot', 'other'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** What the collector writes to `website-clicks`: the client event plus server-side facts. */
export const EnrichedEventSchema = Type.Composite([
  Type.Omit(ClientEventSchema, ['siteId']),
  Type.Object({
    siteId: Type.String({ minLength: 1, maxLength: L.siteIdMax }),
    receivedAt: Type.Number(),
    eventTime: Type.Number(),
    browser: Type.String(),
    os: Type.String(),
    deviceType: Type.Union(DEVICE_TYPES.map((t) => Type.Literal(t))),
    isBot: Type.Boolean(),
    /**
     * ISO 3166-1 alpha-2 country of the client address, or null when unknown (private or
     * loopback address, not in the data). Absent on events written before the collector set it.
     */
    country: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
]);
export type EnrichedEvent = Static<typeof EnrichedEventSchema>;

/** Device time corrected for the device's clock skew, never later than the server clock. */
export function correctedEventTime(ts: number, receivedAt: number, sentAt?: number): number {
  const corrected = sentAt === undefined ? ts : receivedAt - (sentAt - ts);
  return Math.min(Math.round(corrected), receivedAt);
}

/** Payload of `website-clicks-invalid`. */
export interface InvalidEventRecord {
  receivedAt: number;
  reason: string;
  raw: unknown;
}

/** Payload of `website-clicks-late`. */
export type LateEventRecord = EnrichedEvent & { reason: string };
