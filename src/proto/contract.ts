import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Type } from 'protobufjs';

// protobufjs is CommonJS; createRequire keeps its runtime and its types in step.
const protobuf = createRequire(import.meta.url)('protobufjs') as typeof import('protobufjs');

/** The checked-in contract; same relative place from src/proto and dist/proto. */
export const PROTO_FILE = fileURLToPath(new URL('../../src/proto/mutegate.proto', import.meta.url));

/**
 * The message types of mutegate.proto, parsed once at start-up. protobufjs compiles an encoder
 * and decoder per type on first use, so frames are not encoded through JSON (only the opaque
 * objects in the `*_json` fields are JSON text, see mutegate.proto) nor by reflection lookups.
 */
const root = protobuf.loadSync(PROTO_FILE);

export const ClientMessage: Type = root.lookupType('mutegate.v1.ClientMessage');
export const ServerMessage: Type = root.lookupType('mutegate.v1.ServerMessage');
