import { startJanusProcess, type JanusProcess } from '../lib/janusProcess.js';
import { JanusError, JanusVideoRoomClient } from '../lib/JanusVideoRoomClient.js';
import type { LoadStream } from '../lib/LoadGenerator.js';
import { nowMs, type Address } from '../lib/RtpPeer.js';
import type { BenchTarget, Timed } from './target.js';

/**
 * Janus's remote publishers demultiplex what arrives on their one RTP port by SSRC:
 * stream mindex m (substream s) is SSRC 1000 + 10 × m + s (janus_videoroom.c,
 * REMOTE_PUBLISHER_BASE_SSRC / _SSRC_STEP). Every publisher here has one audio stream, mindex 0.
 */
export const JANUS_REMOTE_PUBLISHER_SSRC = 1000;
/** The mid Janus gives a remote publisher's stream with mindex 0 (its mids are the mindexes). */
const AUDIO_MID = '0';
/** JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED. */
const NO_SUCH_FEED = 428;
/** How often rtp_forward is retried (2 ms apart) while a new remote publisher joins its room. */
const JOIN_WAIT_ATTEMPTS = 500;
/** Tries at the next port pair when Janus cannot bind one (taken by some other socket). */
const BIND_ATTEMPTS = 50;

interface Publisher {
  room: number;
  id: number;
}

/**
 * Janus 1.1.x (Debian's package) with the VideoRoom plugin, driven over its HTTP API like a
 * backend would: each participant is a plain-RTP *remote publisher* (add_remote_publisher: Janus
 * gives the port to send Opus RTP to), what it publishes reaches the others through `rtp_forward`
 * to their UDP addresses, and a server mute is `moderate` (mute: true on the audio mid). Plain RTP
 * both ways (no SRTP), like the other targets. The Janus process is started by create(), replaced
 * by a fresh one in teardown() and stopped by close().
 */
export class JanusTarget implements BenchTarget {
  readonly name = 'janus';
  private loadPublishers: Publisher[] = [];
  private probe: Publisher | null = null;
  private nextRoom = 1;
  /** Publisher ids are ours to choose: small integers, exact in JSON and JavaScript numbers alike. */
  private nextPublisherId = 1;
  private nextPort: number;

  private constructor(
    private janus: JanusProcess,
    private client: JanusVideoRoomClient,
    private readonly minPort: number,
    private readonly maxPort: number,
  ) {
    this.nextPort = minPort;
  }

  /** The Janus version running, e.g. "1.1.2". */
  get version(): string {
    return this.janus.version;
  }

  /** Janus's process, for its CPU time (a new one after every teardown()). */
  get pid(): number {
    return this.janus.pid;
  }

  /** Starts Janus; the remote publishers' RTP/RTCP ports and the core's own RTP range are [minPort, maxPort]. */
  static async create(minPort: number, maxPort: number): Promise<JanusTarget> {
    const janus = await startJanusProcess({ rtpMinPort: minPort, rtpMaxPort: maxPort });
    try {
      return new JanusTarget(janus, await JanusVideoRoomClient.connect(janus.apiUrl), minPort, maxPort);
    } catch (err) {
      await janus.stop();
      throw err;
    }
  }

  async setupLoad(streams: number, loadSockets: Address[], payloadType: number): Promise<LoadStream[]> {
    const result: LoadStream[] = [];
    for (let pair = 0; pair * 2 < streams; pair++) {
      const room = await this.createRoom(`load ${pair}`);
      const members: { publisher: Publisher; socket: number }[] = [];
      for (let k = 0; k < 2 && pair * 2 + k < streams; k++) {
        const index = pair * 2 + k;
        const socket = index % loadSockets.length;
        const { publisher, rtp } = await this.addRemotePublisher(room, `load-${index}`);
        this.loadPublishers.push(publisher);
        members.push({ publisher, socket });
        result.push({ to: rtp, ssrc: JANUS_REMOTE_PUBLISHER_SSRC, payloadType, socket });
      }
      if (members.length === 2) {
        // Each one receives the other's stream, on its load socket.
        await this.forward(members[1]!.publisher, loadSockets[members[0]!.socket] as Address, payloadType);
        await this.forward(members[0]!.publisher, loadSockets[members[1]!.socket] as Address, payloadType);
      }
    }
    return result;
  }

  /** `probe` (where an SFU would send to the probe) is not used: a remote publisher only sends to Janus. */
  async setupProbe(_probe: Address, receivers: Address[], ssrc: number, payloadType: number): Promise<Address> {
    if (ssrc !== JANUS_REMOTE_PUBLISHER_SSRC) {
      throw new Error(`janus: the probe must send with SSRC ${JANUS_REMOTE_PUBLISHER_SSRC} (a remote publisher's first stream), not ${ssrc}`);
    }
    const room = await this.createRoom('probe');
    const { publisher, rtp } = await this.addRemotePublisher(room, 'probe');
    this.probe = publisher;
    for (const receiver of receivers) await this.forward(publisher, receiver, payloadType);
    return rtp;
  }

  muteProbe(): Promise<Timed> {
    return this.moderate(this.probe as Publisher, true);
  }

  unmuteProbe(): Promise<Timed> {
    return this.moderate(this.probe as Publisher, false);
  }

  async setLoadMuted(i: number, muted: boolean): Promise<void> {
    await this.moderate(this.loadPublishers[i % this.loadPublishers.length] as Publisher, muted);
  }

  /**
   * Starts a fresh Janus. Janus 1.1.2 does not give back what a remote publisher used: after
   * remove_remote_publisher and destroying its room, its thread ends but its RTP and RTCP sockets
   * and its forwarders' sockets stay open (3 file descriptors and 2 ports of the range each, for
   * the life of the process; seen with ss). A new process per run gives every run the same start.
   */
  async teardown(): Promise<void> {
    this.loadPublishers = [];
    this.probe = null;
    await this.stop();
    this.janus = await startJanusProcess({ rtpMinPort: this.minPort, rtpMaxPort: this.maxPort });
    this.client = await JanusVideoRoomClient.connect(this.janus.apiUrl);
    this.nextPort = this.minPort;
  }

  async close(): Promise<void> {
    await this.stop();
  }

  private async stop(): Promise<void> {
    try {
      await this.client.close();
    } finally {
      await this.janus.stop();
    }
  }

  private async moderate(publisher: Publisher, mute: boolean): Promise<Timed> {
    const send = this.client.prepare({ request: 'moderate', room: publisher.room, id: publisher.id, mid: AUDIO_MID, mute });
    const requestAt = nowMs();
    await send();
    return { requestAt, ackAt: nowMs() };
  }

  private async createRoom(description: string): Promise<number> {
    const room = this.nextRoom++;
    // Audio only: no audio-level extension, no video; the default 3 publishers is enough for a pair.
    await this.client.message({ request: 'create', room, description: `native-bench ${description}`, audiocodec: 'opus', audiolevel_ext: false, publishers: 3 });
    return room;
  }

  /**
   * A remote publisher with one Opus stream, bound to 127.0.0.1 on an RTP/RTCP port pair from the
   * bench's range (Janus 1.1.2's VideoRoom would otherwise pick from its own fixed range, 10000 up).
   */
  private async addRemotePublisher(room: number, display: string): Promise<{ publisher: Publisher; rtp: Address }> {
    for (let attempt = 0; ; attempt++) {
      const port = this.takePortPair();
      try {
        const reply = await this.client.message({
          request: 'add_remote_publisher',
          room,
          id: this.nextPublisherId++,
          display,
          iface: '127.0.0.1',
          port,
          rtcp_port: port + 1,
          streams: [{ type: 'audio', mindex: 0, mid: AUDIO_MID, codec: 'opus' }],
        });
        return { publisher: { room, id: Number(reply.id) }, rtp: { ip: String(reply.ip), port: Number(reply.port) } };
      } catch (err) {
        // "Could not open UDP socket": the port is taken; anything else is a real failure.
        if (!(err instanceof JanusError) || !/UDP socket/.test(err.message) || attempt + 1 >= BIND_ATTEMPTS) throw err;
      }
    }
  }

  private takePortPair(): number {
    if (this.nextPort + 1 > this.maxPort) this.nextPort = this.minPort;
    const port = this.nextPort;
    this.nextPort += 2;
    return port;
  }

  /**
   * Forwards the publisher's audio to `to` as plain RTP with the bench's payload type. A remote
   * publisher joins its room from its own thread, just after add_remote_publisher answered: until
   * then rtp_forward says "No such feed", so that one is retried for a short while.
   */
  private async forward(publisher: Publisher, to: Address, payloadType: number): Promise<void> {
    const body = {
      request: 'rtp_forward',
      room: publisher.room,
      publisher_id: publisher.id,
      host: to.ip,
      host_family: 'ipv4',
      streams: [{ mid: AUDIO_MID, port: to.port, pt: payloadType }],
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = await this.client.message(body);
        if (!Array.isArray(reply.forwarders) || reply.forwarders.length !== 1) throw new Error(`janus: rtp_forward created no forwarder: ${JSON.stringify(reply)}`);
        return;
      } catch (err) {
        if (!(err instanceof JanusError) || err.code !== NO_SUCH_FEED || attempt + 1 >= JOIN_WAIT_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  }
}
