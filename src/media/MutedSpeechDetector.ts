import type { types } from 'mediasoup';
import type { MutedSpeechPoller } from './MutedSpeechPoller.js';
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
export const TALKING_DECAY_MS = 1500;
export const SPEECH_MIN_PACKETS_PER_SECOND = 20;
export const SPEECH_MIN_PACKET_BYTES = 50;

/** A paused producer being watched, and its place in the MutedSpeechPoller's queue. */
export interface WatchedProducer {
  readonly detector: MutedSpeechDetector;
  readonly participantId: string;
  readonly producer: types.Producer;
  last: { at: number; packets: number; bytes: number } | null;
  talking: boolean;
  lastSpeechAt: number;
  /** False once resumed or closed: the poller drops it when it comes to it. */
  watching: boolean;
  /** When the poller may read it next (performance.now() time). */
  dueAt: number;
}

/**
 * One call router's muted producers; the readings themselves are scheduled for the whole gateway
 * by the MutedSpeechPoller it is given (one budget of stats requests for every call).
 */
export class MutedSpeechDetector {
  private readonly watched = new Map<types.Producer, WatchedProducer>();
  /** When a producer muted again may be read next: muting and unmuting fast reads it no more often. */
  private readonly nextDue = new WeakMap<types.Producer, number>();
  private closed = false;

  constructor(
    private readonly poller: MutedSpeechPoller,
    private readonly report: (participantId: string, talking: boolean) => void,
  ) {}

  /** A participant's own producer (not a pipe copy): watched while it is paused. */
  addProducer(participantId: string, producer: types.Producer): void {
    if (!this.poller.enabled) return;
    if (producer.paused) this.watch(participantId, producer);
    producer.observer.on('pause', () => this.watch(participantId, producer));
    producer.observer.on('resume', () => this.unwatch(producer));
    producer.observer.once('close', () => this.unwatch(producer));
  }

  close(): void {
    this.closed = true;
    for (const entry of this.watched.values()) entry.watching = false;
    this.watched.clear();
  }

  private watch(participantId: string, producer: types.Producer): void {
    if (this.closed || producer.closed || this.watched.has(producer)) return;
    const dueAt = this.nextDue.get(producer) ?? 0;
    const entry: WatchedProducer = { detector: this, participantId, producer, last: null, talking: false, lastSpeechAt: 0, watching: true, dueAt };
    this.watched.set(producer, entry);
    this.poller.enqueue(entry);
  }

  private unwatch(producer: types.Producer): void {
    const entry = this.watched.get(producer);
    if (!entry) return;
    entry.watching = false;
    this.watched.delete(producer);
    this.nextDue.set(producer, entry.dueAt);
    if (entry.talking) this.report(entry.participantId, false);
  }

  /** One reading of a watched producer's counters (the poller's turn for it). */
  async sample(entry: WatchedProducer): Promise<void> {
    let counters: { packets: number; bytes: number };
    try {
      counters = await receiveCounters(entry.producer);
    } catch {
      return; // closed meanwhile
    }
    if (!entry.watching) return; // resumed or closed meanwhile
    const now = performance.now();
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
