/**
 * The cluster's Redis keys (all under one prefix so a Redis can be shared with other software):
 * - `node:{nodeId}` → the node's registration (JSON), expiring nodeTtlMs after its last heartbeat;
 * - `call:{callId}` → hash: `settings` (JSON, StoredCallSettings) and `node` (the hosting node);
 * - `call:{callId}:speakers` → hash: identity key (`user:…`) → moderation state (JSON);
 * - `call:{callId}:operations` → hash: operation id → finished operation (JSON), with
 *   `call:{callId}:operationOrder`, a list of their ids, oldest first (bounded like in memory).
 */
export const KEY_PREFIX = 'mutegate:';

export const nodeKeyPrefix = `${KEY_PREFIX}node:`;
export const nodeKey = (nodeId: string): string => `${nodeKeyPrefix}${nodeId}`;
export const callKey = (callId: string): string => `${KEY_PREFIX}call:${callId}`;
export const speakersKey = (callId: string): string => `${KEY_PREFIX}call:${callId}:speakers`;
export const operationsKey = (callId: string): string => `${KEY_PREFIX}call:${callId}:operations`;
export const operationOrderKey = (callId: string): string => `${KEY_PREFIX}call:${callId}:operationOrder`;
