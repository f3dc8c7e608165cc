import { WebSocket } from 'ws';
import type { WebSocketConstructor } from '../../src/client/index.js';

/** `ws`'s WebSocket for the typed client in Node: it has the WHATWG surface the client uses, plus the headers option. */
export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;
