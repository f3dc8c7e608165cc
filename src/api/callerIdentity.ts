/** "me" in the agent APIs (Genesys /api/v2/me/…, CometD /v2/me/calls) is the participant with identity user:<token subject>. */
export const userIdentityKey = (userId: string): string => `user:${userId}`;
