import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';

const HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;

/** The live feed's WebSocket origin for this request's host; 'self' already covers it in CSP 3 browsers. */
function sameHostWebSocket(req: IncomingMessage): string {
  const host = req.headers.host;
  return host && HOST.test(host) ? `ws://${host} wss://${host}` : "'self'";
}

/**
 * Helmet's headers everywhere, with a Content-Security-Policy for the UI: scripts, styles and
 * data only from this origin, plus the live WebSocket. No upgrade-insecure-requests: the
 * dashboard is usually reached over plain http on localhost.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    // The UI may be opened as /?token=...: no page, API answer or demo page ever hands its URL
    // to another request as a Referer (helmet's default too, pinned here on purpose).
    referrerPolicy: { policy: 'no-referrer' },
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", (req) => sameHostWebSocket(req as IncomingMessage)],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
}

/**
 * The demo shop pages embed the tracking snippet the way a customer site does: an inline
 * `window.cs` stub and a script from the collector, which they also send events to.
 */
export function demoContentSecurityPolicy(collectorUrl: string): string {
  const collector = new URL(collectorUrl).origin;
  return [
    "default-src 'self'",
    `script-src 'self' 'unsafe-inline' ${collector}`,
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: ${collector}`,
    `connect-src 'self' ${collector}`,
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}
