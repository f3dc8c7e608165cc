import type { MuteClient } from '../muteClient.js';

/**
 * Sends each mute either to the node that hosts the participant's call ('host': a local mute in
 * a cluster) or to another node ('other': a cross-node mute, which that node forwards to the
 * host over Redis). The host of a call is looked up once (the cluster's placement decides it).
 */
export class NodeChoosingMuteClient implements MuteClient {
  readonly transport: 'http' | 'ws';
  private readonly hostOfCall = new Map<string, Promise<string>>();
  private last: MuteClient | undefined;

  constructor(
    /** One client per node, by node id. */
    private readonly clients: ReadonlyMap<string, MuteClient>,
    private readonly hostOf: (callId: string) => Promise<string>,
    private readonly choose: 'host' | 'other',
  ) {
    const first = clients.values().next().value as MuteClient;
    this.transport = first.transport;
  }

  get lastServerTiming(): string | undefined {
    return this.last?.lastServerTiming;
  }

  async setMuted(callId: string, participantId: string, muted: boolean): Promise<void> {
    let host = this.hostOfCall.get(callId);
    if (!host) {
      host = this.hostOf(callId);
      this.hostOfCall.set(callId, host);
    }
    const hostId = await host;
    const entry = [...this.clients].find(([nodeId]) => (this.choose === 'host' ? nodeId === hostId : nodeId !== hostId));
    if (!entry) throw new Error(`no ${this.choose} node for call ${callId} (hosted by ${hostId})`);
    this.last = entry[1];
    await entry[1].setMuted(callId, participantId, muted);
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) await client.close();
  }
}
