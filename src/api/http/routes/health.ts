import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { authorizeMetrics } from '../../../commands/metrics.js';
import { principalOf } from '../authentication.js';
import { TAG } from '../docs.js';
import type { RouteContext } from './context.js';
import { healthResponse, metricsResponse } from '../responses.schema.js';

export interface HealthSource {
  /** Live media workers; 0 means no call can be created right now. */
  liveWorkers(): number;
  /** With a cluster: the node's id and its Redis (see ClusterNode.health). */
  cluster?(): { nodeId: string; redis: 'up' | 'down'; unsyncedStates: number; callsTakenOver: number; mediaFenced: boolean };
}

/** GET /healthz: public (load balancers and orchestrators ask without a token). */
export function healthRoutes(app: FastifyInstance, health: HealthSource): void {
  const doc = { tags: [TAG.health], operationId: 'health', summary: 'Liveness: 503 while no media worker is alive; `degraded` (200) while the cluster Redis is away or the node holds its media (mediaFenced)', docResponses: { 200: healthResponse, 503: healthResponse } };
  app.get('/healthz', { schema: doc }, async (_request, reply) => {
    const workers = health.liveWorkers();
    const cluster = health.cluster?.();
    // Without Redis the node still enforces every mute (200, `degraded`); without a worker it can do nothing (503).
    const status = workers > 0 && cluster?.redis !== 'down' && cluster?.mediaFenced !== true ? 'ok' : 'degraded';
    return reply.status(workers > 0 ? 200 : 503).send({ status, workers, ...(cluster ? { cluster } : {}) });
  });
}

/**
 * GET /metrics: public when the config makes it so; otherwise registered in the authenticated
 * scope with the command context, and only an application token reads it.
 */
export function metricsRoutes(app: FastifyInstance, metrics: Registry, ctx?: RouteContext): void {
  const doc = { tags: [TAG.health], operationId: 'metrics', summary: 'Prometheus metrics (public, or for application tokens only, by configuration)', docResponses: { 200: metricsResponse } };
  app.get('/metrics', { schema: doc }, async (request, reply) => {
    if (ctx) authorizeMetrics(ctx, principalOf(request));
    return reply.header('Content-Type', metrics.contentType).send(await metrics.metrics());
  });
}
