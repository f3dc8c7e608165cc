import { randomUUID } from 'node:crypto';
import { graphError } from '../graph/errors.js';
import { rosterChangeNotification, rosterSnapshotNotification } from '../graph/notifications.js';
import { operationResource } from '../graph/resources.js';
import type { WireCodec } from './codec.js';
import { FrameError, JSON_SUBPROTOCOL, validateClientRequest, type ClientRequest, type ServerEvent } from './protocol.js';

/**
 * Text frames of JSON. Roster snapshots and deltas are Graph commsNotifications; answers to
 * requests are `{ "type": "response", "requestId", "status": 200, "body" }`, failures
 * `{ "type": "error", "requestId", "status", "error": <Graph error> }`.
 */
export const jsonCodec: WireCodec = {
  subprotocol: JSON_SUBPROTOCOL,
  binary: false,

  decode(data: Buffer, isBinary: boolean): ClientRequest {
    if (isBinary) throw new FrameError('wrongFrameType', `binary frame on a ${JSON_SUBPROTOCOL} connection; send JSON text frames`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString('utf8'));
    } catch (err) {
      throw new FrameError('badFrame', `frame is not valid JSON: ${(err as Error).message}`);
    }
    return validateClientRequest(parsed);
  },

  encode(event: ServerEvent): string {
    switch (event.type) {
      case 'snapshot':
        return JSON.stringify(rosterSnapshotNotification(event.call, event.requestId));
      case 'delta':
        return JSON.stringify(rosterChangeNotification(event.call, event.change));
      case 'ack':
        return JSON.stringify({ type: 'response', requestId: event.requestId, status: 200, body: { callId: event.callId } });
      case 'operation':
        return JSON.stringify({ type: 'response', requestId: event.requestId, status: 200, body: operationResource(event.operation) });
      case 'result':
        return JSON.stringify({ type: 'response', requestId: event.requestId, status: 200, body: event.body });
      case 'consumer':
        return JSON.stringify({ type: 'newConsumer', callId: event.callId, participantId: event.participantId, ...event.offer });
      case 'unmuteRequested':
        return JSON.stringify({ type: 'unmuteRequested', callId: event.callId, participantId: event.participantId, clientContext: event.clientContext ?? null });
      case 'reconnect':
        return JSON.stringify({ type: 'reconnect', callId: event.callId, participantId: event.participantId, reason: event.reason });
      case 'consumerClosed':
        return JSON.stringify({ type: 'consumerClosed', callId: event.callId, participantId: event.participantId, consumerId: event.consumerId });
      case 'error':
        return JSON.stringify({
          type: 'error',
          ...(event.requestId !== undefined ? { requestId: event.requestId } : {}),
          status: event.status,
          ...graphError(event.status, event.message, { requestId: event.requestId ?? randomUUID() }, event.innerCode),
        });
    }
  },
};
