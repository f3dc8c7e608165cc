import type { types } from 'mediasoup';
import { receiveCounters } from './receiveCounters.js';

/**
 * Notices a muted participant who keeps sending speech ("talking while muted").
 *
 * What the worker still sees of a paused producer (mediasoup 3.13.16, worker/src/RTC/Producer.cpp
 * `ReceiveRtpPacket`): the packet is given to its RtpStreamRecv, which counts it (packets, bytes,
 * bitrate), and then "If paused stop here" returns, before the 'trace' event is emitted and before
 * the router hands the packet to its consumers and its RTP observers (Router.cpp
 * `OnTransportProducerRtpPacketReceived`; `OnTransportProducerPaused` also takes the producer out
 * of every observer). So neither trace events nor AudioLevelObserver/ActiveSpeakerObserver see a
 * muted participant's audio level; the stream's receive counters (`producer.getStats()`) do rise.
 *
 * Speech is therefore read from those counters: Opus sends one packet per 20 ms frame while the
 * participant speaks, and with DTX (the page produces with it; SIP phones with VAD/CN do the
 * like) about one tiny packet per 400 ms in silence; without DTX, Opus VBR silence frames are a
 * few bytes. An interval counts as speech when at least SPEECH_MIN_PACKETS_PER_SECOND packets
 * arrived averaging at least SPEECH_MIN_PACKET_BYTES (whole RTP packets, header included).
 * `talking` turns true at the first such interval and false after TALKING_DECAY_MS without one.
 * A sender streaming full-size frames of silence (constant bitrate, no DTX) reads as talking.
 */
export const POLL_INTERVAL_MS = 500;
export const TALKING_DECAY_MS = 1500;
export const SPEECH_MIN_PACKETS_PER_SECOND = 20;
export const SPEECH_MIN_PACKET_BYTES = 50;
/** Stats requests per poll and router at most (a 300-person all-hands is mostly muted people). */
export const MAX_POLLS_PER_TICK = 100;

interface Watched {
  participantId: string;
  producer: types.Producer;
  last: { at: number; packets: number; bytes: number } | null;
  talking: boolean;
  lastSpeechAt: number;
}

export class MutedSpeechDetector {
  private readonly watched = new Map<types.Producer, Watched>();
  /** Runs only while something is watched: a router without muted producers costs no timer. */
  private timer: NodeJS.Timeout | undefined;
  /** Round-robin position when more producers are watched than one poll may ask about. */
  private cursor = 0;
  private polling = false;
  private closed = false;

  constructor(private readonly report: (participantId: string, talking: boolean) => void) {}

  /** A participant's own producer (not a pipe copy): watched while it is paused. */
  addProducer(participantId: string, producer: types.Producer): void {
    if (producer.paused) this.watch(participantId, producer);
    producer.observer.on('pause', () => this.watch(participantId, producer));
    producer.observer.on('resume', () => this.unwatch(producer));
    producer.observer.once('close', () => this.unwatch(producer));
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }

  private watch(participantId: string, producer: types.Producer): void {
    if (this.closed || producer.closed || this.watched.has(producer)) return;
    this.watched.set(producer, { participantId, producer, last: null, talking: false, lastSpeechAt: 0 });
    this.timer ??= setInterval(() => void this.poll(), POLL_INTERVAL_MS).unref();
  }

  private unwatch(producer: types.Producer): void {
    const entry = this.watched.get(producer);
    if (!entry) return;
    this.watched.delete(producer);
    if (this.watched.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    if (entry.talking) this.report(entry.participantId, false);
  }

  private async poll(): Promise<void> {
    // A poll that has not finished (a saturated worker answers late) is not stacked upon.
    if (this.polling || this.watched.size === 0) return;
    this.polling = true;
    try {
      const all = [...this.watched.values()];
      const batch = all.length <= MAX_POLLS_PER_TICK ? all : Array.from({ length: MAX_POLLS_PER_TICK }, (_, i) => all[(this.cursor + i) % all.length] as Watched);
      this.cursor = (this.cursor + batch.length) % Math.max(1, all.length);
      await Promise.all(batch.map((entry) => this.sample(entry)));
    } finally {
      this.polling = false;
    }
  }

  private async sample(entry: Watched): Promise<void> {
    let counters: { packets: number; bytes: number };
    try {
      counters = await receiveCounters(entry.producer);
    } catch {
      return; // closed meanwhile
    }
    if (this.watched.get(entry.producer) !== entry) return; // resumed or closed meanwhile
    const now = Date.now();
    const { packets, bytes } = counters;
    const last = entry.last;
    entry.last = { at: now, packets, bytes };
    if (!last || now <= last.at) return;
    const packetCount = packets - last.packets;
    const speech =
      packetCount > 0 &&
      (packetCount * 1000) / (now - last.at) >= SPEECH_MIN_PACKETS_PER_SECOND &&
      (bytes - last.bytes) / packetCount >= SPEECH_MIN_PACKET_BYTES;
    if (speech) {
      entry.lastSpeechAt = now;
      if (!entry.talking) {
        entry.talking = true;
        this.report(entry.participantId, true);
      }
    } else if (entry.talking && now - entry.lastSpeechAt >= TALKING_DECAY_MS) {
      entry.talking = false;
      this.report(entry.participantId, false);
    }
  }
}
