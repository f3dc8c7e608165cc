/**
 * Receive addresses for the participants the bench does not analyse: real UDP sockets on
 * 127.0.0.1 that never read. The kernel queues what the SFU sends until the socket's buffer is
 * full, then drops (counted in /proc/net/udp): the bench spends no CPU on those packets, and
 * the drop counter still says how much was forwarded to them. The same socket also sends its
 * talkers' packets (mediasoup only accepts RTP from the address a transport is connected to).
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';

/**
 * Stops the socket's reads. Node has no public API for a UDP socket that does not read, so this
 * uses the handle behind it (node:dgram's `kStateSymbol`, described "state symbol"): recvStop()
 * is libuv's uv_udp_recv_stop. Returns false when the handle is not there (a Node that changed
 * it): the socket then drains with an empty listener, which costs CPU but stays correct.
 */
function stopReading(socket: Socket): boolean {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  // The internal state object is untyped; only its handle's recvStop is used.
  const handle = state ? (socket as unknown as Record<symbol, { handle?: { recvStop?: () => number } }>)[state]?.handle : undefined;
  if (typeof handle?.recvStop !== 'function') return false;
  return handle.recvStop() === 0;
}

export async function openDiscardSocket(): Promise<{ socket: Socket; reading: boolean }> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 64 * 1024 });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const stopped = stopReading(socket);
  if (!stopped) socket.on('message', () => undefined);
  return { socket, reading: !stopped };
}

/**
 * Datagrams dropped per local port of IPv4 UDP sockets on 127.0.0.1, from the text of
 * /proc/net/udp (the last column, "drops"). Pure, for the tests; see udpDrops.
 */
export function parseUdpDrops(procNetUdp: string, ports: readonly number[]): Map<number, number> {
  const wanted = new Set(ports);
  const drops = new Map<number, number>();
  for (const line of procNetUdp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    if (!local || f.length < 13) continue;
    const [ipHex, portHex] = local.split(':');
    const port = parseInt(portHex ?? '', 16);
    if (ipHex !== '0100007F' || !wanted.has(port)) continue;
    drops.set(port, (drops.get(port) ?? 0) + Number(f[f.length - 1]));
  }
  return drops;
}

/** Σ drops of the given ports now; NaN off Linux. */
export function udpDrops(ports: readonly number[]): number {
  try {
    return [...parseUdpDrops(readFileSync('/proc/net/udp', 'utf8'), ports).values()].reduce((a, b) => a + b, 0);
  } catch {
    return NaN;
  }
}
