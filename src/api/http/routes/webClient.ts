import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The browser client bundle (scripts/build-web.mjs); same place seen from src/ and dist/. */
export const WEB_ROOT = fileURLToPath(new URL('../../../../dist/web', import.meta.url));

/** Serves the browser client at / (when it has been built; otherwise / says how to build it). */
export function webClientRoutes(app: FastifyInstance): void {
  if (!existsSync(`${WEB_ROOT}/index.html`)) {
    // The page, not the API: not in the OpenAPI document (nor are the bundle's files, see @fastify/static's schemaHide).
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.status(503).type('text/plain').send('The web client is not built. Run "npm run build:web" (npm run serve does it).\n'),
    );
    return;
  }
  // Only the files that exist are routes (wildcard off), so unknown paths keep the Graph 404.
  // no-referrer: a page opened as /?token=… must not hand its address (the token) to anything it loads.
  void app.register(fastifyStatic, {
    root: WEB_ROOT,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    setHeaders: (res) => void res.header('Referrer-Policy', 'no-referrer'),
  });
}
