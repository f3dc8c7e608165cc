/**
 * What the route schemas carry for the OpenAPI document only (see openapi.ts): tags, and
 * response schemas fastify must not serialize with. No runtime dependency, so every route schema
 * file may import it.
 */

declare module 'fastify' {
  interface FastifySchema {
    /**
     * Success responses described in /openapi.json but not given to fastify's serializer: a
     * response schema in `response` makes fastify drop every field it does not declare, so the
     * replies built from the domain's resources (graph/resources.ts) stay serialized as they are
     * and are only described here. The OpenAPI test checks real replies against these.
     */
    docResponses?: Readonly<Record<string, unknown>>;
    /** Set by the scope whose error handler answers in Genesys' shape (see documentErrorShape). */
    errorShape?: 'graph' | 'genesys';
    /** A bodiless request is taken as `{}` (routes with bodilessMeansEmpty): the body is optional. */
    bodyOptional?: boolean;
    /** What the success reply's `Location` header names (the created call or participant, or the operation). */
    locationOf?: 'call' | 'participant' | 'operation';
  }
}

/** The document's tags (operation groups in /docs), by route module. */
export const TAG = {
  calls: 'Graph calls',
  participants: 'Graph participants',
  mute: 'Mute',
  moderation: 'Moderation',
  operations: 'Operations',
  genesys: 'Genesys Workspace Voice',
  health: 'Health and metrics',
} as const;

export const TAG_DESCRIPTIONS: Record<(typeof TAG)[keyof typeof TAG], string> = {
  [TAG.calls]: 'Microsoft Graph cloud-communications calls (`/communications/calls`).',
  [TAG.participants]: 'Plain-RTP participants of a call: join, list, read, new send stream, remove.',
  [TAG.mute]:
    'Server mute: the reply comes once the media worker has paused (or resumed) the participant\'s send stream, with the finished operation.',
  [TAG.moderation]: 'mutegate extensions next to Graph: lock, deafen, ask to unmute, mute all, raised hands.',
  [TAG.operations]: 'Graph operations: the outcome of a mute or moderation request, by id.',
  [TAG.genesys]: 'Genesys Workspace Voice API shape (`/api/v2/me/calls`): `statusCode` 0 is success.',
  [TAG.health]: 'Liveness for load balancers and Prometheus metrics.',
};
