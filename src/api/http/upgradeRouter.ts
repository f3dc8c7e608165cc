import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { rawGraphErrorResponse } from './graphErrors.js';

export interface UpgradeTarget {
  handles(request: IncomingMessage): boolean;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** Hands each WebSocket upgrade on the HTTP server to the endpoint that owns its path; others get 404. */
export function routeUpgrades(server: Server, targets: UpgradeTarget[]): void {
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const target = targets.find((t) => t.handles(request));
    if (target) {
      target.handleUpgrade(request, socket, head);
      return;
    }
    socket.end(rawGraphErrorResponse(404, `no WebSocket endpoint at ${pathOf(request).slice(0, 200)}`, 'routeNotFound'));
  });
}

export const pathOf = (request: IncomingMessage): string => (request.url ?? '').split('?')[0] ?? '';
