import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { useGateway, waitFor } from '../helpers/gateway.js';
import { appToken } from '../helpers/tokens.js';

describe('WebSocket keepalive (real gateway)', () => {
  const fixture = useGateway({ MUTEGATE_WS_PING_INTERVAL_MS: '150' });


  it('keeps a client that answers pings and reaps one that does not', async () => {
    // Browsers' way of sending the token: the access_token query parameter.
    const url = fixture.gateway.url.replace('http', 'ws') + `/ws?access_token=${await appToken()}`;
    const healthy = new WebSocket(url, 'mutegate.v1.json');
    const dead = new WebSocket(url, 'mutegate.v1.json', { autoPong: false });
    await Promise.all([healthy, dead].map((ws) => new Promise((resolve) => ws.once('open', resolve))));
    let deadClosed: number | null = null;
    dead.on('close', (code) => (deadClosed = code));
    await waitFor(() => deadClosed !== null, 3000, 'the silent socket to be reaped');
    expect(deadClosed).toBe(1006); // terminated, no close handshake
    expect(healthy.readyState).toBe(WebSocket.OPEN);
    expect(fixture.gateway.sockets.connectionCount).toBe(1);
    healthy.terminate();
  });
});
