import type { ClientRequest, ServerEvent } from './protocol.js';

/** One encoding of the WebSocket protocol, chosen by subprotocol. */
export interface WireCodec {
  readonly subprotocol: string;
  /** Binary frames (protobuf) or text frames (JSON). */
  readonly binary: boolean;
  /** Throws FrameError for anything that is not a valid request. */
  decode(data: Buffer, isBinary: boolean): ClientRequest;
  encode(event: ServerEvent): string | Uint8Array;
}
