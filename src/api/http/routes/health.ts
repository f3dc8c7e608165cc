import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthSource {
  /** Live media workers; 0 means no call can be created right now. */
  liveWorkers(): number;
}

/** GET /healthz: public (load balancers and orchestrators ask without a token). */
export function healthRoutes(app: FastifyInstance, health: HealthSource): void {
  app.get('/healthz', async (_request, reply) => {
    const workers = health.liveWorkers();
    return reply.status(workers > 0 ? 200 : 503).send({ status: workers > 0 ? 'ok' : 'degraded', workers });
  });
}

/** GET /metrics: registered in the authenticated scope unless the config makes it public. */
export function metricsRoutes(app: FastifyInstance, metrics: Registry): void {
  app.get('/metrics', async (_request, reply) =>
    reply.header('Content-Type', metrics.contentType).send(await metrics.metrics()),
  );
}
