import type { Logger } from 'pino';
import type { Participant } from '../../control/Participant.js';
import type { ParticipantRef } from '../../control/Policy.js';
import type { NodeLink } from '../nodeLink.js';

/** Every node listens here for unmute requests made on the node that hosts the call. */
const UNMUTE_REQUESTS_TOPIC = 'ws:unmuteRequested';

interface UnmuteRequestMessage {
  /** The node hosting the call, where the request was made. */
  nodeId: string;
  participant: ParticipantRef;
  clientContext?: string;
}

/**
 * With a cluster: an unmute request reaches the asked participant's own connections on every
 * node, not only on the one hosting the call (a participant-token connection that only follows
 * the roster may be connected anywhere). The hosting node delivers to its own connections and
 * publishes the request; every other node delivers it to its connections that speak for the
 * participant (see `deliver`: not to one whose relay to the hosting node carries it already).
 */
export class RemoteUnmuteRequests {
  constructor(
    private readonly link: NodeLink,
    deliver: (participant: ParticipantRef, clientContext: string | undefined, hostingNodeId: string) => void,
    log: Logger,
  ) {
    void link
      .listenTopic(UNMUTE_REQUESTS_TOPIC, (raw) => {
        let message: UnmuteRequestMessage;
        try {
          message = JSON.parse(raw) as UnmuteRequestMessage;
        } catch {
          return log.warn('an unmute request from another node that is not JSON: ignored');
        }
        if (message.nodeId === link.nodeId) return; // delivered here already
        deliver(message.participant, message.clientContext, message.nodeId);
      })
      .catch((err: unknown) => log.error({ err }, 'cannot listen for unmute requests of other nodes'));
  }

  publish(participant: Participant, clientContext: string | undefined): void {
    const message: UnmuteRequestMessage = {
      nodeId: this.link.nodeId,
      participant: { id: participant.id, callId: participant.callId, identity: participant.identity },
      ...(clientContext !== undefined ? { clientContext } : {}),
    };
    // Redis away: the other nodes' connections miss it (the moderator can ask again); nothing to undo.
    void this.link.publishTopic(UNMUTE_REQUESTS_TOPIC, JSON.stringify(message));
  }
}
