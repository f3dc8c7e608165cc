import type { FastifyInstance } from 'fastify';

/**
 * Every route fastify registered, as "METHOD /path/{param}", read from its router's own listing
 * (printRoutes: a radix tree, one node per line, a child's label continuing its parent's path).
 * The gateway is already listening when a test gets it, so an onRoute hook would come too late.
 */
export function registeredRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const pathAtDepth: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const node = /^([│ ]*)(?:[├└]── )?(.+?)(?: \(([A-Z, ]+)\))?$/u.exec(line.trimEnd());
    if (!node || !node[2]) continue;
    // Each tree level is indented by 4 characters ("│   " or "    "), the root by none.
    const depth = node[1]!.length / 4 + (line.includes('── ') ? 1 : 0);
    const path = (depth > 0 ? (pathAtDepth[depth - 1] ?? '') : '') + node[2];
    pathAtDepth[depth] = path;
    pathAtDepth.length = depth + 1;
    for (const method of node[3]?.split(', ') ?? []) routes.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return routes;
}
