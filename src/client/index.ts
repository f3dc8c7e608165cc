/**
 * mutegate's typed client (browser and Node): the HTTP API (MutegateHttp) and the WebSocket
 * protocol (MutegateSocket: requests, rosters kept in sequence with gap resync, WebRTC signaling
 * events). JSON encoding here; the protobuf encoding is `mutegate/client/proto` (Node).
 */
export { MutegateHttp, graphPaths, type HttpOptions, type HttpReply, type ParticipantAction } from './MutegateHttp.js';
export { MutegateSocket, type Roster, type SocketEvents, type SocketOptions, type WebSocketConstructor, type WebSocketLike } from './MutegateSocket.js';
export { MutegateError, MutegateTimeout } from './MutegateError.js';
export {
  jsonEncoding,
  JSON_SUBPROTOCOL,
  type ClientRequestFields,
  type ConsumerOffer,
  type LeaveReason,
  type RosterChangeKind,
  type RosterParticipant,
  type ServerFrame,
  type WireEncoding,
} from './frames.js';
