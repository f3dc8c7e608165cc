import { FORWARDING_LIMITS } from '../../control/forwarding.js';

/**
 * Response shapes for the OpenAPI document (docs.ts `docResponses`): what graph/resources.ts and
 * genesys/callResource.ts build, field by field. They are not given to fastify's serializer (a
 * field missing here would vanish from replies); test/integration/openapi.test.ts checks real
 * replies against them with unknown fields refused, so a field added to a resource and not here
 * fails that test.
 */

const dateTime = { type: 'string', format: 'date-time' } as const;
const odataType = { type: 'string', description: 'Graph resource type, e.g. `#microsoft.graph.call`.' } as const;

/** Shared schemas, registered with app.addSchema and referenced as `{ $ref: '<$id>#' }`: components in the document. */
export const graphErrorSchema = {
  $id: 'GraphError',
  description: 'Microsoft Graph error: every Graph-shaped error reply (and the `request-id` header carries the same id).',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'innerError'],
      properties: {
        code: { type: 'string', description: "Graph's code for the HTTP status, e.g. `badRequest`, `itemNotFound`." },
        message: { type: 'string' },
        innerError: {
          type: 'object',
          required: ['request-id', 'date'],
          properties: {
            code: { type: 'string', description: 'The specific reason, e.g. `invalidRequestBody`, `participantNotFound`.' },
            'request-id': { type: 'string' },
            'client-request-id': { type: 'string', description: "The request's `client-request-id` header, echoed." },
            date: dateTime,
          },
        },
      },
    },
  },
  examples: [
    {
      error: {
        code: 'itemNotFound',
        message: 'participant 3f0c… not found in call 9b2e…',
        innerError: { code: 'participantNotFound', 'request-id': '0d6b5c7e-8f53-4a41-9d0e-3b0f6a3f2c11', date: '2026-01-01T12:00:00Z' },
      },
    },
  ],
} as const;

export const genesysErrorSchema = {
  $id: 'GenesysError',
  description: 'Genesys Workspace error: `statusCode` 1 invalid request, 2 unauthenticated, 3 not found, 4 not allowed, 5 unavailable, 6 internal.',
  type: 'object',
  required: ['statusCode', 'statusMessage'],
  properties: {
    statusCode: { type: 'integer', enum: [1, 2, 3, 4, 5, 6] },
    statusMessage: { type: 'string' },
  },
  examples: [{ statusCode: 3, statusMessage: 'call 9b2e… not found' }],
} as const;

const identitySet = {
  type: 'object',
  description: 'Graph identitySet as given on input: one of user, application, guest, phone ({ id, displayName, … }).',
  additionalProperties: true,
} as const;

const participantInfo = {
  type: 'object',
  required: ['@odata.type', 'identity'],
  properties: { '@odata.type': odataType, identity: identitySet },
} as const;

const forwarding = {
  type: 'object',
  required: ['mode'],
  description: 'Who hears whom (README "Who is heard in a large call").',
  properties: {
    mode: { type: 'string', enum: ['all', 'speakers', 'auto'] },
    maxSpeakers: { type: 'integer', minimum: FORWARDING_LIMITS.maxSpeakers.min, maximum: FORWARDING_LIMITS.maxSpeakers.max },
    silenceDbov: { type: 'integer', minimum: FORWARDING_LIMITS.silenceDbov.min, maximum: FORWARDING_LIMITS.silenceDbov.max },
    speakersFrom: { type: 'integer', minimum: FORWARDING_LIMITS.speakersFrom.min, maximum: FORWARDING_LIMITS.speakersFrom.max },
  },
} as const;

/** graph/resources.ts callView: `callbackUri` and `tenantId` for the application only. */
export const callResponse = {
  description: 'The call (Graph `call`, with mutegate extensions).',
  type: 'object',
  required: ['@odata.type', 'id', 'state', 'direction', 'subject', 'requestedModalities', 'source', 'targets', 'myParticipantId', 'mediaState', 'callType', 'muteOnEntry', 'forwarding', 'dominantSpeakerParticipantId', 'createdDateTime'],
  properties: {
    '@odata.type': odataType,
    id: { type: 'string' },
    state: { type: 'string', enum: ['established', 'terminated'] },
    direction: { type: 'string', enum: ['outgoing'] },
    subject: { type: ['string', 'null'] },
    requestedModalities: { type: 'array', items: { type: 'string', enum: ['audio'] } },
    source: { anyOf: [participantInfo, { type: 'null' }] },
    targets: { type: 'array', items: participantInfo },
    myParticipantId: { type: ['string', 'null'], description: "The application's own participant (`source`), if it joined." },
    mediaState: {
      type: 'object',
      required: ['@odata.type', 'audio'],
      properties: { '@odata.type': odataType, audio: { type: 'string', enum: ['active', 'inactive'] } },
    },
    callType: { type: 'string', enum: ['group', 'peerToPeer'], description: 'mutegate: participant mute is allowed in group calls only.' },
    muteOnEntry: { type: 'boolean', description: 'mutegate: people joining for the first time start muted.' },
    forwarding,
    dominantSpeakerParticipantId: { type: ['string', 'null'], description: 'mutegate: the participant the media names the dominant speaker.' },
    createdDateTime: dateTime,
    callbackUri: { type: ['string', 'null'], description: 'Application tokens only.' },
    tenantId: { type: ['string', 'null'], description: 'Application tokens only.' },
  },
} as const;

export const callListResponse = { description: 'The calls.', type: 'object', required: ['value'], properties: { value: { type: 'array', items: callResponse } } } as const;

const resultInfo = {
  type: 'object',
  required: ['code', 'subcode', 'message'],
  properties: { '@odata.type': odataType, code: { type: 'integer' }, subcode: { type: 'integer' }, message: { type: 'string' } },
} as const;

/** graph/resources.ts operationResource. */
export const operationResponse = {
  description: 'The finished operation (also at its `Location`).',
  type: 'object',
  required: ['@odata.type', 'id', 'status', 'clientContext', 'resultInfo', 'participantId', 'finishedSequence', 'createdDateTime', 'lastActionDateTime'],
  properties: {
    '@odata.type': { type: 'string', description: '`#microsoft.graph.muteParticipantOperation`, `#microsoft.graph.unmuteParticipantOperation`, or `#mutegate.<type>Operation`.' },
    id: { type: 'string' },
    status: { type: 'string', enum: ['running', 'completed', 'failed'] },
    clientContext: { type: ['string', 'null'] },
    resultInfo: { anyOf: [resultInfo, { type: 'null' }] },
    participantId: { type: 'string', description: 'mutegate: the participant acted on ("" for call-wide operations).' },
    results: {
      type: 'array',
      description: "Mute all: every participant's outcome.",
      items: {
        type: 'object',
        required: ['participantId', 'status'],
        properties: {
          participantId: { type: 'string' },
          status: { type: 'string', enum: ['completed', 'failed'] },
          operationId: { type: 'string' },
          resultInfo: { type: 'object', properties: { code: { type: 'integer' }, subcode: { type: 'integer' }, message: { type: 'string' } } },
        },
      },
    },
    finishedSequence: { type: ['integer', 'null'], description: "mutegate: the order in which the call's operations finished; the highest on a participant stands." },
    createdDateTime: dateTime,
    lastActionDateTime: dateTime,
  },
} as const;

/** A participant mute as it is answered: once the media worker confirmed it. */
export const muteOperationResponse = {
  ...operationResponse,
  examples: [
    {
      '@odata.type': '#microsoft.graph.muteParticipantOperation',
      id: '5b1f3c2a-7d4e-4f60-9a8b-2c1d0e9f8a7b',
      status: 'completed',
      clientContext: 'moderator-console',
      resultInfo: null,
      participantId: '8c6f1e2d-3b4a-4c5d-8e9f-0a1b2c3d4e5f',
      finishedSequence: 1,
      createdDateTime: '2026-01-01T12:00:00.000Z',
      lastActionDateTime: '2026-01-01T12:00:00.004Z',
    },
  ],
} as const;

const genesysParty = {
  type: 'object',
  required: ['number', 'displayName', 'participantId', 'mute'],
  properties: {
    number: { type: 'string' },
    displayName: { type: 'string' },
    participantId: { type: 'string' },
    mute: { type: 'string', enum: ['On', 'Off'] },
  },
} as const;

/** genesys/callResource.ts: the call as one agent ("me") sees it. */
const genesysCall = {
  type: 'object',
  required: ['id', 'callUuid', 'state', 'callType', 'mute', 'participants', 'capabilities', 'path', 'uri', 'participantId'],
  properties: {
    id: { type: 'string' },
    callUuid: { type: 'string' },
    state: { type: 'string', enum: ['Established', 'Released'] },
    callType: { type: 'string', enum: ['Internal'] },
    mute: { type: 'string', enum: ['On', 'Off'], description: "The agent's own mute state." },
    locked: { type: 'boolean', description: 'mutegate: hard-muted by a moderator.' },
    deafened: { type: 'boolean', description: 'mutegate: hears nobody.' },
    handRaised: { type: 'boolean', description: 'mutegate: asked to speak.' },
    participants: { type: 'array', items: genesysParty, description: 'The other parties.' },
    capabilities: { type: 'array', items: { type: 'string' }, description: 'The operationName values the agent may use now.' },
    path: { type: 'string' },
    uri: { type: 'string' },
    userData: { type: 'array', items: {} },
    extensions: { type: 'array', items: {} },
    participantId: { type: 'string', description: "mutegate: the agent's own participant id." },
    subject: { type: 'string' },
  },
} as const;

export const genesysCallListResponse = {
  description: "The agent's calls.",
  type: 'object',
  required: ['statusCode', 'data'],
  properties: {
    statusCode: { type: 'integer', enum: [0] },
    data: { type: 'object', required: ['calls'], properties: { calls: { type: 'array', items: genesysCall } } },
  },
} as const;

export const genesysCallResponse = {
  description: 'The call as the agent sees it.',
  type: 'object',
  required: ['statusCode', 'data'],
  properties: {
    statusCode: { type: 'integer', enum: [0] },
    data: { type: 'object', required: ['call'], properties: { call: genesysCall } },
  },
} as const;

export const genesysOkResponse = {
  description: 'Done.',
  type: 'object',
  required: ['statusCode'],
  properties: { statusCode: { type: 'integer', enum: [0] } },
} as const;

export const healthResponse = {
  description: '`ok` with live media workers; `degraded` (503) with none, or (200) while the cluster Redis cannot be reached.',
  type: 'object',
  required: ['status', 'workers'],
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    workers: { type: 'integer', description: 'Live media workers; 0 means no call can be created.' },
    cluster: {
      type: 'object',
      description: 'Only with config cluster.redisUrl.',
      required: ['nodeId', 'redis', 'unsyncedStates', 'callsTakenOver', 'mediaFenced'],
      properties: {
        nodeId: { type: 'string' },
        redis: { type: 'string', enum: ['up', 'down'] },
        unsyncedStates: { type: 'integer', description: 'Moderation states answered while Redis was away and not written yet.' },
        callsTakenOver: { type: 'integer', description: 'Calls this node took over from nodes that were gone.' },
        mediaFenced: {
          type: 'boolean',
          description: "Every send stream on this node is held paused (silence, mute states kept): its registration in Redis may have expired, so another node may own its calls. Lifted once the registration is renewed and the node's calls were checked.",
        },
      },
    },
  },
} as const;

/** A reply without a body (DELETE). */
export const noContent = { type: 'null', description: 'No content.' } as const;

/** Prometheus text exposition: given as an OpenAPI response object (its own media type). */
export const metricsResponse = {
  description: 'Prometheus text exposition format 0.0.4.',
  content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
} as const;
