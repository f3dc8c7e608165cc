import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CallService } from '../../control/CallService.js';
import type { Moderation } from '../../control/Moderation.js';
import type { Policy } from '../../control/Policy.js';
import type { TokenVerifier } from '../auth/TokenVerifier.js';
import { authentication } from './authentication.js';
import { graphErrorBody, graphErrorHandler } from './graphErrors.js';
import { callRoutes } from './routes/calls.js';
import { genesysRoutes } from './routes/genesys.js';
import { healthRoutes, type HealthSource } from './routes/health.js';
import { moderationRoutes } from './routes/moderation.js';
import { muteRoutes } from './routes/mute.js';
import { operationRoutes } from './routes/operations.js';
import { participantRoutes } from './routes/participants.js';
import { webClientRoutes } from './routes/webClient.js';

export interface HttpServerOptions {
  service: CallService;
  policy: Policy;
  moderation: Moderation;
  /** Null: authentication switched off (every request acts as the application). */
  verifier: TokenVerifier | null;
  publicMetrics: boolean;
  health: HealthSource;
  metrics: Registry;
  logger: Logger;
  bodyLimitBytes: number;
  /** Base URL clients reach the gateway at (for absolute `uri`s in responses). */
  baseUrl: () => string;
  /** A non-fastify endpoint on the same server (the CometD long-polling transport). */
  rawEndpoint?: {
    handles(request: IncomingMessage): boolean;
    handleRequest(request: IncomingMessage, response: ServerResponse): void;
  };
}

/** The Graph-shaped HTTP API: thin routes that validate, call the domain and shape the reply. */
export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  const raw = options.rawEndpoint;
  const app = Fastify({
    loggerInstance: options.logger,
    // CometD long-polling is served by faye on the same HTTP server, in front of fastify.
    serverFactory: (handler) =>
      createServer((request, response) => (raw?.handles(request) ? raw.handleRequest(request, response) : handler(request, response))),
    bodyLimit: options.bodyLimitBytes,
    genReqId: () => randomUUID(),
    // Malformed URLs and overlong path segments fail in the router, before any route's error handler.
    frameworkErrors: (error, request, reply) => {
      const status = error.statusCode ?? 400;
      void (reply as FastifyReply).status(status).send(graphErrorBody(request as FastifyRequest, status, error.message, error.code));
    },
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

  authentication(app, { verifier: options.verifier, publicMetrics: options.publicMetrics });
  const context = { service: options.service, policy: options.policy };
  callRoutes(app, context);
  participantRoutes(app, context);
  muteRoutes(app, context);
  moderationRoutes(app, context, options.moderation);
  operationRoutes(app, context);
  genesysRoutes(app, context, options.moderation, options.baseUrl);
  healthRoutes(app, options.health, options.metrics);
  webClientRoutes(app);
  return app;
}
