import { readFileSync } from 'node:fs';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { TAG, TAG_DESCRIPTIONS } from './docs.js';
import { genesysErrorSchema, graphErrorSchema } from './responses.schema.js';

/** Where the document and its interactive reference are served (public: they describe, they do not act). */
export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PREFIX = '/docs';

const BEARER = 'bearerAuth';

/** The package's version (package.json is three levels up from src/api/http and from dist/api/http). */
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Every route may fail: 4xx/5xx in the shape of its API (Graph, or Genesys in the Genesys scope). */
function errorResponses(shape: 'graph' | 'genesys'): Record<string, unknown> {
  const $ref = shape === 'genesys' ? `${genesysErrorSchema.$id}#` : `${graphErrorSchema.$id}#`;
  return {
    '4XX': {
      description: 'Refused: 400 invalid request, 401 no valid token, 403 not allowed, 404 unknown call/participant/operation, 409 conflict, 413/414/415.',
      $ref,
    },
    '5XX': { description: '503 shutting down or no media worker; 500 an unexpected fault.', $ref },
  };
}

/** Carries `bodyOptional` from a route's schema to its operation, for finishDocument (swagger copies `x-` keys). */
const BODY_OPTIONAL = 'x-mutegate-body-optional';
/** Carries `locationOf` the same way. */
const LOCATION_OF = 'x-mutegate-location-of';

const LOCATION_DESCRIPTIONS: Record<NonNullable<FastifySchema['locationOf']>, string> = {
  call: 'The created call: `/communications/calls/{callId}`.',
  participant: 'The created participant: `/communications/calls/{callId}/participants/{participantId}`.',
  operation:
    'The finished operation: `/communications/calls/{callId}/operations/{operationId}` (a mute that failed closed, `503 muteNotConfirmed`, also names its failed operation).',
};

/**
 * The route's schema as the document shows it: its real `response` schemas (those fastify
 * serializes with) over the doc-only ones, and the error shape of its scope.
 */
function documentedSchema(schema: FastifySchema | undefined): FastifySchema {
  const { docResponses, errorShape, bodyOptional, locationOf, ...rest } = schema ?? {};
  return {
    ...rest,
    ...(bodyOptional ? { [BODY_OPTIONAL]: true } : {}),
    ...(locationOf ? { [LOCATION_OF]: locationOf } : {}),
    response: { ...errorResponses(errorShape ?? 'graph'), ...docResponses, ...(rest.response as object | undefined) },
  };
}

interface DocumentOperation {
  requestBody?: { required?: boolean };
  responses?: Record<string, { headers?: Record<string, unknown> }>;
  [BODY_OPTIONAL]?: boolean;
  [LOCATION_OF]?: NonNullable<FastifySchema['locationOf']>;
}

interface Document {
  paths?: Record<string, Record<string, DocumentOperation | undefined>>;
  components?: { headers?: Record<string, unknown> };
}

const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/**
 * What no single route schema can say, applied to the finished document: every reply carries
 * `request-id` (the root onSend hook sets it), and fastify's "a body schema means a body is
 * required" does not hold for the routes that take a bodiless POST as `{}`.
 */
function finishDocument(document: Document): Document {
  document.components = {
    ...document.components,
    headers: { 'request-id': { description: "The request's id (also in a Graph error's `innerError`).", schema: { type: 'string' } } },
  };
  for (const item of Object.values(document.paths ?? {})) {
    for (const method of OPERATION_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      if (operation[BODY_OPTIONAL] && operation.requestBody) operation.requestBody.required = false;
      delete operation[BODY_OPTIONAL];
      const locationOf = operation[LOCATION_OF];
      delete operation[LOCATION_OF];
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        response.headers = { ...response.headers, 'request-id': { $ref: '#/components/headers/request-id' } };
        if (locationOf && status.startsWith('2')) {
          response.headers.Location = { description: LOCATION_DESCRIPTIONS[locationOf], schema: { type: 'string' } };
        }
      }
    }
  }
  return document;
}

/**
 * Registers the OpenAPI document (GET /openapi.json) and its reference UI (GET /docs), both public.
 * Call it before any route is registered: @fastify/swagger collects routes with an onRoute hook,
 * so routes added earlier would be missing from the document.
 */
export function registerOpenApi(app: FastifyInstance): void {
  // Components: referenced from the route schemas as `GraphError#` and `GenesysError#`.
  app.addSchema(graphErrorSchema);
  app.addSchema(genesysErrorSchema);

  void app.register(fastifySwagger, {
    mode: 'dynamic',
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'mutegate',
        version: VERSION,
        description:
          'Server mute that cannot leak: a mediasoup SFU with a Microsoft Graph cloud-communications shaped API and a Genesys Workspace Voice shape. ' +
          'Generated from the route schemas. The WebSocket protocol (`/ws`: roster, mute, moderation, WebRTC signaling; JSON or protobuf) and CometD are described in the README.',
      },
      tags: Object.values(TAG).map((name) => ({ name, description: TAG_DESCRIPTIONS[name] })),
      components: {
        securitySchemes: {
          [BEARER]: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'A JWT signed for mutegate (`npm run token -- --role app`); its role and claims decide what it may do.',
          },
        },
      },
    },
    // Shared schemas appear under their $id in components.schemas (not "def-0").
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url }) => ({ schema: documentedSchema(schema), url }),
    transformObject: (documentObject) => {
      // Always OpenAPI 3 here (the `openapi` option is set); Swagger 2 would pass through unchanged.
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
      // Built afresh for this call (then cached by the plugin): changing it in place is safe.
      finishDocument(documentObject.openapiObject as Document);
      return documentObject.openapiObject;
    },
  });

  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());

  // The UI's assets come from the npm package (no CDN); spec validation by validator.swagger.io stays off.
  void app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PREFIX,
    validatorUrl: false,
    uiConfig: { docExpansion: 'list', deepLinking: true, displayOperationId: true },
  });
}

/** The authenticated scope's routes require the bearer token (in the document; the scope's hook enforces it). */
export function documentBearerAuth(scope: FastifyInstance): void {
  scope.addHook('onRoute', (route: RouteOptions) => {
    route.schema = { ...route.schema, security: [{ [BEARER]: [] }] };
  });
}

/** A scope whose error handler answers in another shape says so for its routes' documented errors. */
export function documentErrorShape(scope: FastifyInstance, shape: 'graph' | 'genesys'): void {
  scope.addHook('onRoute', (route: RouteOptions) => {
    route.schema = { ...route.schema, errorShape: shape };
  });
}
