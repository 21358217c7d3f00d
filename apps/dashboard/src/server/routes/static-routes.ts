import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { demoContentSecurityPolicy } from '../security-headers.js';

export interface StaticRoutesDeps {
  webDir: string;
  demoDir: string;
  collectorPublicUrl: string;
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>clickstream dashboard: UI not built</title></head>
<body>
<h1>UI not built</h1>
<p>The dashboard API is running, but the web UI has not been built yet.</p>
<p>Run <code>npm start</code> at the repository root, or build the UI with
<code>pnpm --filter @clickstream/dashboard build</code>, then reload this page.</p>
<ul>
<li><a href="/docs">API documentation (OpenAPI)</a></li>
<li><a href="/demo/">Demo shop</a></li>
<li><a href="/healthz">Health</a></li>
</ul>
</body>
</html>
`;

/**
 * The web UI (Vite output in dist/web, a single-page app), the demo shop under /demo/ and
 * /config.json. Files are looked up per request, so a UI built after start-up is served at once.
 */
export async function staticRoutes(app: FastifyInstance, deps: StaticRoutesDeps): Promise<void> {
  const indexFile = join(deps.webDir, 'index.html');
  const uiBuilt = () => existsSync(indexFile);

  await app.register(fastifyStatic, {
    root: deps.webDir,
    prefix: '/',
    index: false,
    // Vite names assets by content hash; index.html is what must never be cached.
    setHeaders: (reply, path) => {
      reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  const demoCsp = demoContentSecurityPolicy(deps.collectorPublicUrl);
  await app.register(async (demo) => {
    demo.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', demoCsp);
    });
    await demo.register(fastifyStatic, { root: deps.demoDir, prefix: '/demo/', decorateReply: false });
  });
  app.get('/demo', { schema: { hide: true } }, (_request, reply) => reply.redirect('/demo/', 301));

  const sendUi = (reply: FastifyReply) => {
    if (uiBuilt()) return reply.header('cache-control', 'no-cache').sendFile('index.html');
    return reply.status(200).type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
  };

  app.get('/', { schema: { hide: true } }, (_request, reply) => sendUi(reply));

  app.get('/config.json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return { collectorUrl: deps.collectorPublicUrl };
  });

  // Client-side routes of the single-page apps (/users/u1, /demo/cart) load their index.html;
  // API paths, missing files and non-page requests keep their 404.
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?', 1)[0] ?? '';
    const wantsPage =
      (request.method === 'GET' || request.method === 'HEAD') &&
      !/\.[A-Za-z0-9]{1,8}$/.test(path) &&
      (request.headers.accept ?? '').includes('text/html');
    if (wantsPage && path.startsWith('/demo/') && existsSync(join(deps.demoDir, 'index.html'))) {
      reply.header('content-security-policy', demoCsp).header('cache-control', 'no-cache');
      return reply.sendFile('index.html', deps.demoDir);
    }
    if (wantsPage && !/^\/(api|demo|docs|assets)(\/|$)/.test(path)) return sendUi(reply);
    return reply.status(404).send({ error: 'not_found', message: `no such route: ${request.method} ${path.slice(0, 200)}` });
  });
}
