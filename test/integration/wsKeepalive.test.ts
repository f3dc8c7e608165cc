import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway, waitFor } from '../helpers/gateway.js';
import { appToken } from '../helpers/tokens.js';

describe('WebSocket keepalive (real gateway)', () => {
  let gateway: Gateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ MUTEGATE_WS_PING_INTERVAL_MS: '150' });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('keeps a client that answers pings and reaps one that does not', async () => {
    // Browsers' way of sending the token: the access_token query parameter.
    const url = gateway.url.replace('http', 'ws') + `/ws?access_token=${await appToken()}`;
    const healthy = new WebSocket(url, 'mutegate.v1.json');
    const dead = new WebSocket(url, 'mutegate.v1.json', { autoPong: false });
    await Promise.all([healthy, dead].map((ws) => new Promise((resolve) => ws.once('open', resolve))));
    let deadClosed: number | null = null;
    dead.on('close', (code) => (deadClosed = code));
    await waitFor(() => deadClosed !== null, 3000, 'the silent socket to be reaped');
    expect(deadClosed).toBe(1006); // terminated, no close handshake
    expect(healthy.readyState).toBe(WebSocket.OPEN);
    expect(gateway.sockets.connectionCount).toBe(1);
    healthy.terminate();
  });
});
