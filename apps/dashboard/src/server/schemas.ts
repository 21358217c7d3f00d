import { Type } from '@sinclair/typebox';
import { WindowResultSchema } from '@clickstream/shared';

/** Request and response schemas of the Query API: Fastify validates with them and /docs shows them. */

export const MAX_LIMIT = 1000;

const SiteId = (description = "The site's id (1-64 of A-Z a-z 0-9 . _ -). Default `default`.") =>
  Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description });
// PostgreSQL text cannot hold NUL, so it is refused here rather than by the database.
const UserId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\x00]+$', description: 'The user id the snippet sent (1-128 characters).' });
const Time = (what: string) =>
  Type.String({ minLength: 1, maxLength: 64, description: `${what}: ISO-8601 (2024-01-31T12:00:00Z) or milliseconds since the epoch.` });
const Limit = (fallback: number) =>
  Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: fallback, description: `At most this many items (1-${MAX_LIMIT}).` });

export const ErrorSchema = Type.Object(
  { error: Type.String({ description: 'A stable code, e.g. invalid_parameter.' }), message: Type.String() },
  { $id: 'Error', description: 'What went wrong, for people and programs.' },
);

export const UserParams = Type.Object({ userId: UserId });

export const UserMetricsQuery = Type.Object({
  siteId: Type.Optional(SiteId()),
  from: Type.Optional(Time('Start of the range (default: 15 minutes before `to`)')),
  to: Type.Optional(Time('End of the range, exclusive (default: now)')),
  limit: Limit(MAX_LIMIT),
});

export const TimelineQuery = Type.Object({
  siteId: Type.Optional(SiteId()),
  from: Type.Optional(Time('Start of the range (default: 15 minutes before `to`)')),
  to: Type.Optional(Time('End of the range, exclusive; at most one day after `from` (default: now)')),
});

export const TopUsersQuery = Type.Object({
  siteId: Type.Optional(SiteId()),
  from: Type.Optional(Time('Start of the range (default: 15 minutes before `to`)')),
  to: Type.Optional(Time('End of the range, exclusive (default: now)')),
  by: Type.Union([Type.Literal('events'), Type.Literal('clicks'), Type.Literal('engagedMs')], {
    default: 'events',
    description: 'What to rank users by.',
  }),
  limit: Limit(10),
});

export const DeleteUserQuery = Type.Object({
  siteId: Type.Optional(SiteId('Erase only on this site; without it, on every site.')),
});

export const LiveQuery = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 1024, description: 'The API token, when the client cannot send an Authorization header (browsers).' })),
  siteId: Type.Optional(SiteId('Only windows of this site (default: every site).')),
  since: Type.Optional(Time('Also send every window written at or after this time (reconnect gap fill; at most LIVE_MAX_GAP_MS back)')),
});

export const UserMetricsReply = Type.Object({ windows: Type.Array(WindowResultSchema) });

export const TimelineReply = Type.Object({
  windows: Type.Array(
    Type.Object({
      windowStart: Type.String({ format: 'date-time' }),
      activeUsers: Type.Integer({ description: 'Users with at least one event in the window.' }),
      events: Type.Integer(),
      pageViews: Type.Integer(),
      clicks: Type.Integer(),
      engagedMs: Type.Integer(),
    }),
    { description: 'One entry per 5-second window in the range, oldest first; windows without data hold zeros.' },
  ),
});

export const TopUsersReply = Type.Object({
  users: Type.Array(
    Type.Object({
      userId: Type.String(),
      events: Type.Integer(),
      clicks: Type.Integer(),
      engagedMs: Type.Integer(),
      windows: Type.Integer({ description: '5-second windows in which the user was active.' }),
    }),
  ),
});

export const SitesReply = Type.Object({
  sites: Type.Array(
    Type.Object({
      siteId: Type.String(),
      lastSeen: Type.Optional(
        Type.String({ format: 'date-time', description: "End of the site's newest stored window: its latest counted event happened before then." }),
      ),
    }),
    { description: 'Every site with at least one stored window, ordered by id.' },
  ),
});

export const DeleteUserReply = Type.Object({ deleted: Type.Integer({ description: 'Rows erased: 5-second windows plus visits.' }) });
