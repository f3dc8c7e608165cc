/** The protobuf encoding for MutegateSocket (Node: it reads src/proto/mutegate.proto). */
export { protoEncoding, PROTO_SUBPROTOCOL } from './protoEncoding.js';
