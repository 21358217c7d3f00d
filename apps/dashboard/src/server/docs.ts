import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

const DESCRIPTION = `Query API of the clickstream platform: per-user 5-second window metrics, site timelines,
top users, the list of sites, site analytics (\`POST /api/v1/query\`, shaped like Plausible's Stats API v2), and GDPR erasure.

Every \`/api/v1\` route needs \`Authorization: Bearer <token>\`; without a valid one it answers \`401\`.
\`API_TOKEN\` (admin) may do everything. Each of \`API_READ_TOKENS\` (comma-separated, read-only) may call every
GET route, \`POST /api/v1/query\` and the live feed; \`DELETE\` with one answers \`403 {"error": "forbidden"}\`. Times (\`from\`, \`to\`) are
ISO-8601 or milliseconds since the epoch; the default range is the last 15 minutes; \`limit\` is at most 1000.
Bad parameters get \`400 {"error", "message"}\`; a user with nothing stored gets \`404 {"error": "unknown_user"}\`.

**Live feed** (WebSocket, not listed below): \`GET /api/v1/live?token=<token>[&siteId=][&since=]\` sends
\`{"type":"window","data":WindowResult}\` for each window result the processor commits, and
\`{"type":"deleted","data":{siteId, userId, windowStart}}\` when an erasure removed a window (drop it if shown). An
\`Authorization\` header works too, for clients that can send one. With \`since\`
(ISO-8601 or ms) it first sends every window written at or after that time, so a reconnecting client
has no gap; deduplicate by (siteId, userId, windowStart) keeping the highest \`revision\`. Pages of
other origins are refused unless listed in DASHBOARD_ALLOWED_ORIGINS. Every answer carries
\`Referrer-Policy: no-referrer\`, so a token in a page's URL never leaves in a \`Referer\`.`;

/** OpenAPI document built from the route schemas, and Swagger UI at /docs. Register before routes. */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'clickstream Query API', version: '1.0.0', description: DESCRIPTION },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      tags: [
        { name: 'metrics', description: 'Window metrics' },
        { name: 'privacy', description: 'Erasure' },
        { name: 'pipeline', description: 'Freshness of the pipeline and the last exactness audit' },
        { name: 'stats', description: "Site analytics: visitors, visits, page views, bounce rate, visit duration, events (Plausible's Stats API v2 shape)" },
      ],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Served over plain http on localhost too, where upgrading requests would break the page.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
  });
}
