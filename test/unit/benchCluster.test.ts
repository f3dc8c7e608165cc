import { describe, expect, it } from 'vitest';
import { NodeChoosingMuteClient } from '../../native-bench/lib/cluster/NodeChoosingMuteClient.js';
import { clusterMarkdown } from '../../native-bench/lib/cluster/profile.js';
import type { MuteClient } from '../../native-bench/lib/muteClient.js';
import { summarize } from '../../native-bench/lib/stats.js';

/** A mute client that records where it was asked to mute. */
function recorder(node: string, log: string[]): MuteClient {
  return {
    transport: 'http',
    lastServerTiming: `node;desc=${node}`,
    setMuted: async (callId, participantId, muted) => {
      log.push(`${node}:${callId}/${participantId}:${muted ? 'mute' : 'unmute'}`);
    },
    close: async () => undefined,
  };
}

describe('native-bench cluster profile', () => {
  it('sends each mute to the node hosting the call (host) or to another node (other), looking the host up once per call', async () => {
    const log: string[] = [];
    const lookups: string[] = [];
    const clients = new Map([
      ['node-a', recorder('node-a', log)],
      ['node-b', recorder('node-b', log)],
    ]);
    const hostOf = async (callId: string) => {
      lookups.push(callId);
      return callId === 'call-1' ? 'node-a' : 'node-b';
    };
    const host = new NodeChoosingMuteClient(clients, hostOf, 'host');
    const other = new NodeChoosingMuteClient(clients, hostOf, 'other');
    await host.setMuted('call-1', 'p', true);
    await host.setMuted('call-1', 'p', false);
    await other.setMuted('call-1', 'p', true);
    await other.setMuted('call-2', 'q', true);
    expect(log).toEqual(['node-a:call-1/p:mute', 'node-a:call-1/p:unmute', 'node-b:call-1/p:mute', 'node-a:call-2/q:mute']);
    expect(other.lastServerTiming).toBe('node;desc=node-a');
    expect(lookups).toEqual(['call-1', 'call-1', 'call-2']); // once per call and client
  });

  it('fails a mute it cannot route instead of sending it to the wrong node', async () => {
    const only = new NodeChoosingMuteClient(new Map([['node-a', recorder('node-a', [])]]), async () => 'node-a', 'other');
    await expect(only.setMuted('call-1', 'p', true)).rejects.toThrow('no other node for call call-1 (hosted by node-a)');
  });

  it('reports every run in one table, with leak after ack', () => {
    const run = (target: 'single' | 'cross-node', leak: number) => ({
      target,
      streams: 10,
      ackMs: summarize([1, 2, 3]),
      lastForwardedMs: summarize([0.5]),
      firstDroppedMs: summarize([1.5, 2.5]),
      leakAfterAck: leak,
      mutes: 3,
    });
    const md = clusterMarkdown({ machine: { cpus: 'x × 2', memoryGiB: 24, node: 'v20', mediasoup: '3.13.16' }, command: 'npm run bench -- --profile cluster', date: '2026-12-02T00:00:00Z', minutes: 1.5, runs: [run('single', 0), run('cross-node', 2)] });
    expect(md).toContain('| 10 | single | 2.00 / 2.98 | 0.50 | 2.00 / 2.49 | 3 | 0 |');
    expect(md).toContain('| 10 | cross-node | 2.00 / 2.98 | 0.50 | 2.00 / 2.49 | 3 | 2 |');
    expect(md).toContain('Machine: x × 2, 24 GiB, Node v20, mediasoup 3.13.16');
  });
});
