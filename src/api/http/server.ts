import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CallService } from '../../control/CallService.js';
import { graphErrorBody, graphErrorHandler } from './graphErrors.js';
import { callRoutes } from './routes/calls.js';
import { healthRoutes, type HealthSource } from './routes/health.js';
import { muteRoutes } from './routes/mute.js';
import { operationRoutes } from './routes/operations.js';
import { participantRoutes } from './routes/participants.js';

export interface HttpServerOptions {
  service: CallService;
  health: HealthSource;
  metrics: Registry;
  logger: Logger;
  bodyLimitBytes: number;
}

/** The Graph-shaped HTTP API: thin routes that validate, call the domain and shape the reply. */
export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimitBytes,
    genReqId: () => randomUUID(),
    ajv: {
      // Graph is strictly typed: `"clientContext": 42` is an error, not the string "42".
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
  }) as unknown as FastifyInstance; // loggerInstance narrows the logger generic; routes only need the base type.

  app.addHook('onSend', async (request, reply) => {
    void reply.header('request-id', request.id);
    const clientRequestId = request.headers['client-request-id'];
    if (typeof clientRequestId === 'string') void reply.header('client-request-id', clientRequestId);
  });
  // The API speaks JSON only: any other body type is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(graphErrorHandler);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(graphErrorBody(request, 404, `no route for ${request.method} ${request.url}`, 'routeNotFound')),
  );

  callRoutes(app, options.service);
  participantRoutes(app, options.service);
  muteRoutes(app, options.service);
  operationRoutes(app, options.service);
  healthRoutes(app, options.health, options.metrics);
  return app;
}
