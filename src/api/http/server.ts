import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CommandContext } from '../../commands/context.js';
import type { TokenVerifier } from '../auth/TokenVerifier.js';
import { DomainError, shuttingDown } from '../../control/errors.js';
import { registerAuthenticated } from './authentication.js';
import { graphClientErrorHandler } from './clientErrors.js';
import { graphErrorBody, graphErrorHandler, setRequestIdHeaders } from './graphErrors.js';
import type { InFlightRequests } from './inFlightRequests.js';
import { markArrival } from './serverTiming.js';
import { registerOpenApi } from './openapi.js';
import { callRoutes } from './routes/calls.js';
import { genesysRoutes } from './routes/genesys.js';
import type { NodeLink } from '../nodeLink.js';
import { hostNamedCalls, serveForwardedHttp } from './callHosting.js';
import { ForwardedPrincipals } from './forwardedPrincipals.js';
import type { Principal } from '../../control/Principal.js';
import { healthRoutes, metricsRoutes, type HealthSource } from './routes/health.js';
import { moderationRoutes } from './routes/moderation.js';
import { muteRoutes } from './routes/mute.js';
import { operationRoutes } from './routes/operations.js';
import { participantRoutes } from './routes/participants.js';
import { webClientRoutes } from './routes/webClient.js';
import { MAX_REQUEST_NESTING, nestsDeeperThan } from '../../lib/jsonNesting.js';

export interface HttpServerOptions {
  /** The commands every route calls (authorization lives there, not in the routes). */
  commands: CommandContext;
  /** With a cluster: requests for calls on other nodes go there, theirs for calls here come in. */
  cluster?: { link: NodeLink };
  /** Null: authentication switched off (every request acts as the application). */
  verifier: TokenVerifier | null;
  publicMetrics: boolean;
  health: HealthSource;
  metrics: Registry;
  logger: Logger;
  bodyLimitBytes: number;
  /** Counts the requests received; shutdown waits for them and has new ones answered 503. */
  requests: InFlightRequests;
  /** Base URL clients reach the gateway at (for absolute `uri`s in responses). */
  baseUrl: () => string;
  /** A non-fastify endpoint on the same server (the CometD long-polling transport). */
  rawEndpoint?: {
    handles(request: IncomingMessage): boolean;
    handleRequest(request: IncomingMessage, response: ServerResponse): void;
  };
}

/** Longest path parameter (ids are UUIDs); a longer one is answered 414 by the router. */
const MAX_PARAM_LENGTH = 100;

/** The router's own messages quote the whole path (up to the 16 KiB Node accepts): say what is wrong instead. */
function routerErrorMessage(error: FastifyError): string {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return `a path segment is too long (over ${MAX_PARAM_LENGTH} characters)`;
  if (error.code === 'FST_ERR_BAD_URL') return 'the path is not a valid URL (bad percent-encoding)';
  return error.message;
}

/**
 * No log line per request served: fastify's "incoming request" and "request completed" lines
 * (info) cost a serialization and a synchronous write for every mute, on its path. What goes
 * wrong is still logged: a response that failed, and the error handler's own warnings/errors.
 */
class ErrorsOnlyRequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
  }
}

/** The Graph-shaped HTTP API: thin routes that validate, call the domain and shape the reply. */
export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  const { rawEndpoint: raw, requests } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new ErrorsOnlyRequestLog(),
    // CometD long-polling is served by faye on the same HTTP server, in front of fastify. Every
    // other request is counted from the moment it is received (see InFlightRequests).
    serverFactory: (handler) =>
      createServer((request, response) => {
        if (raw?.handles(request)) return raw.handleRequest(request, response);
        requests.track(request, response);
        markArrival(request);
        handler(request, response);
      }),
    bodyLimit: options.bodyLimitBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    genReqId: () => randomUUID(),
    // Malformed URLs (400) and path parameters over maxParamLength (fastify answers 414) fail in
    // the router: no route, so no hook and no route error handler runs for them.
    frameworkErrors: (error, request, reply) => {
      const status = error.statusCode ?? 400;
      setRequestIdHeaders(request as FastifyRequest, reply as FastifyReply);
      void (reply as FastifyReply).status(status).send(graphErrorBody(request as FastifyRequest, status, routerErrorMessage(error), error.code));
    },
    // What Node's HTTP parser refuses (431 header fields too large, 400 garbage) never reaches
    // fastify: it is answered on the socket, in Graph's shape too.
    clientErrorHandler: graphClientErrorHandler(options.logger),
    // Shutdown answers new requests itself (the hook below), in Graph's (or Genesys') shape.
    return503OnClosing: false,
    ajv: {
      // Graph is strictly typed: `"clientContext": 42` is an error, not the string "42".
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
  }) as unknown as FastifyInstance; // loggerInstance narrows the logger generic; routes only need the base type.

  // These hooks run for every request, mutes included, and have nothing to wait for: they are
  // written with fastify's `done` callback, so none of them adds a promise to a request's path.
  // The first hook of every route: a request that arrived after shutdown began gets 503 from the
  // error handler of its route's scope; one received before is served (shutdown waits for it).
  app.addHook('onRequest', (request, reply, done) => {
    if (!requests.arrivedWhileClosing(request.raw)) return done();
    void reply.header('Connection', 'close');
    done(shuttingDown());
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    setRequestIdHeaders(request, reply);
    done(null, payload);
  });
  // Nothing deeper than any API needs gets past parsing (see MAX_REQUEST_NESTING): validators,
  // the domain and serializers never see a value nested thousands of levels deep.
  app.addHook('preValidation', (request, _reply, done) => {
    if (!nestsDeeperThan(request.body, MAX_REQUEST_NESTING)) return done();
    done(new DomainError('invalidRequest', 'invalidRequestBody', `the request body nests deeper than ${MAX_REQUEST_NESTING} levels`));
  });
  // The API speaks JSON only: any other body type is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  // A JSON content type with no body (HTTP libraries that set the header on every request, a
  // DELETE or a bodiless mute from them) is a request without a body, not a 400: routes that need
  // one still refuse it with their schema's message. Bodies are parsed by fastify's own JSON
  // parser (prototype-poisoning checks included).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') return done(null, undefined);
    parseJson(request, text, done);
  });
  app.setErrorHandler(graphErrorHandler);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(graphErrorBody(request, 404, `no route for ${request.method} ${request.url}`, 'routeNotFound')),
  );

  // Public: the API's description (/openapi.json, /docs). It collects the routes registered after
  // it, so it comes first and the public routes are registered in a plugin (loaded after it).
  registerOpenApi(app);

  // Public: health, the browser page, and /metrics when configured so.
  void app.register(async (publicScope) => {
    healthRoutes(publicScope, options.health);
    webClientRoutes(publicScope);
    if (options.publicMetrics) metricsRoutes(publicScope, options.metrics);
  });

  // Everything else only behind a verified token (or as the application when auth is off).
  // With a cluster: the principals of requests other nodes forward here (verified there).
  const forwarded = options.cluster ? new ForwardedPrincipals() : undefined;
  const requestRate = options.commands.requests;
  const admit = requestRate ? (principal: Principal) => requestRate.admit(principal) : undefined;
  registerAuthenticated(app, { verifier: options.verifier, ...(forwarded ? { forwarded } : {}), ...(admit ? { admit } : {}) }, (scope) => {
    const context = options.commands;
    hostNamedCalls(scope, context, options.cluster?.link);
    callRoutes(scope, context);
    participantRoutes(scope, context);
    muteRoutes(scope, context);
    moderationRoutes(scope, context);
    operationRoutes(scope, context);
    // Has its own child scope with the Genesys error handler: an authentication failure there
    // is answered in Genesys' shape, since the hook runs in the route's scope.
    genesysRoutes(scope, context, options.baseUrl);
    if (!options.publicMetrics) metricsRoutes(scope, options.metrics, context);
  });
  if (options.cluster && forwarded) serveForwardedHttp(app, forwarded, options.cluster.link);
  return app;
}
