import type { types } from 'mediasoup';
import type { CallForwarding } from '../control/forwarding.js';
import { AUDIO_LEVEL_URI } from './codecs.js';
import { ConsumerGate } from './ConsumerGate.js';
import { DEFAULT_TUNING, SpeakerSelection, type SourceLevel } from './SpeakerSelection.js';

/** The selector that decides for each producer (a participant's own or its pipe copy), with its source. */
const deciders = new WeakMap<types.Producer, { selector: SpeakerSelector; source: string }>();

/**
 * Whether a consumer of `producer` created now may flow as far as speaker selection is concerned,
 * so that it can be created paused instead of being paused right after (one request less per
 * consumer of an unselected source; the selector still holds or releases it afterwards).
 */
export function selectionAllows(producer: types.Producer): boolean {
  const decider = deciders.get(producer);
  return decider ? decider.selector.forwards(decider.source) : true;
}

/** How often the worker reports levels. 300 ms holds 15 Opus packets: the observer needs at least 10 per interval. */
export const LEVEL_INTERVAL_MS = 300;

/**
 * Speaker-aware forwarding in one mediasoup Router (a call spread over workers has one per
 * router, each deciding for the consumers in its router from the same producers: the
 * participants' own and their pipe copies).
 *
 * Mechanism: a source that is not selected has each of its consumers in this router paused
 * (ConsumerGate hold `notSelected`). The alternatives in mediasoup 3.13 do not fit: pausing the
 * producer is the mute itself (selection must never be able to resume a muted producer), and a
 * consumer has no per-packet drop rule. A paused consumer costs the worker one branch per packet
 * (Consumer::SendRtpPacket returns at once when not active) instead of a send. A change of
 * selection is one pause and one resume request per listener in the router; the hysteresis of
 * SpeakerSelection keeps each slot from changing more often than every DEFAULT_TUNING.minHoldMs.
 *
 * The ranking comes from an AudioLevelObserver over every producer whose packets carry the
 * RFC 6464 audio level. A producer without it cannot be ranked and is always forwarded. A paused
 * (muted) producer leaves its slot at once (and the worker takes it out of the observer itself).
 */
export class SpeakerSelector {
  private readonly selection: SpeakerSelection;
  /** Sources whose current producer carries the audio level (the rest is always forwarded). */
  private readonly measurable = new Set<string>();
  /** Participant of each producer id in this router (pipe copies keep the original's id). */
  private readonly sourceOfProducer = new Map<string, string>();
  /** Current producer of each source in this router. */
  private readonly producerOf = new Map<string, types.Producer>();
  private readonly consumersOf = new Map<string, Set<types.Consumer>>();
  private speakersActive: boolean;
  /**
   * Created with the router's first measurable producer, not with the router: an observer ticks in
   * the worker every LEVEL_INTERVAL_MS, and most routers of a busy gateway carry small calls whose
   * senders have no audio level to rank (the forwarding bench: 500 routers, +1–2 % of a core).
   */
  private observer: Promise<types.AudioLevelObserver | null> | null = null;

  constructor(
    private readonly router: types.Router,
    private readonly forwarding: CallForwarding,
  ) {
    const maxSpeakers = forwarding.mode === 'all' ? 1 : forwarding.maxSpeakers;
    this.selection = new SpeakerSelection({ maxSpeakers, ...DEFAULT_TUNING });
    this.speakersActive = forwarding.mode === 'speakers';
  }

  /** The level observer, once a producer can be ranked ('all' never ranks: none). */
  private levelObserver(): Promise<types.AudioLevelObserver | null> {
    if (this.forwarding.mode === 'all') return Promise.resolve(null);
    this.observer ??= this.createObserver(this.forwarding.silenceDbov, this.forwarding.maxSpeakers);
    return this.observer;
  }

  /** Whether `source`'s consumers may forward now (as far as selection is concerned). */
  forwards(source: string): boolean {
    return !this.speakersActive || !this.measurable.has(source) || this.selection.has(source);
  }

  get selected(): string[] {
    return this.selection.selected;
  }

  addProducer(source: string, producer: types.Producer): void {
    if (producer.closed) return;
    this.sourceOfProducer.set(producer.id, source);
    this.producerOf.set(source, producer);
    deciders.set(producer, { selector: this, source });
    const measurable = producer.rtpParameters.headerExtensions?.some((e) => e.uri === AUDIO_LEVEL_URI) ?? false;
    const wasMeasurable = this.measurable.has(source);
    if (measurable) this.measurable.add(source);
    else this.measurable.delete(source);
    producer.observer.on('pause', () => {
      if (this.selection.remove(source)) this.refresh(source);
    });
    producer.observer.once('close', () => {
      this.sourceOfProducer.delete(producer.id);
      if (this.producerOf.get(source) !== producer) return;
      this.producerOf.delete(source);
      this.measurable.delete(source);
      this.selection.remove(source);
      this.updateMode();
    });
    if (measurable) {
      void this.levelObserver()
        .then((observer) => observer?.addProducer({ producerId: producer.id }))
        .catch(() => undefined);
    }
    if (!this.updateMode() && wasMeasurable !== measurable) this.refresh(source);
  }

  /** A consumer of `source` in this router: held paused while the source is not selected. */
  addConsumer(source: string, consumer: types.Consumer): void {
    if (consumer.closed) return;
    let set = this.consumersOf.get(source);
    if (!set) {
      set = new Set();
      this.consumersOf.set(source, set);
    }
    set.add(consumer);
    consumer.observer.once('close', () => {
      set.delete(consumer);
      if (set.size === 0 && this.consumersOf.get(source) === set) this.consumersOf.delete(source);
    });
    if (!this.forwards(source)) this.hold(consumer, true);
  }

  private async createObserver(silenceDbov: number, maxSpeakers: number): Promise<types.AudioLevelObserver | null> {
    // "A level at or below -silenceDbov dBov is silent": the worker keeps averages >= threshold.
    const threshold = Math.min(0, -silenceDbov + 1);
    let observer: types.AudioLevelObserver;
    try {
      observer = await this.router.createAudioLevelObserver({ maxEntries: maxSpeakers + 4, threshold, interval: LEVEL_INTERVAL_MS });
    } catch {
      return null; // the router closed meanwhile
    }
    observer.on('volumes', (volumes) => this.onLevels(volumes.map(({ producer, volume }) => ({ producerId: producer.id, volume }))));
    observer.on('silence', () => this.onLevels([]));
    return observer;
  }

  private onLevels(volumes: { producerId: string; volume: number }[]): void {
    if (!this.speakersActive) return;
    const levels: SourceLevel[] = [];
    for (const { producerId, volume } of volumes) {
      const source = this.sourceOfProducer.get(producerId);
      if (source !== undefined && !this.producerOf.get(source)?.paused) levels.push({ source, volume });
    }
    const { added, removed } = this.selection.update(Date.now(), levels);
    for (const source of [...added, ...removed]) this.refresh(source);
  }

  /**
   * `auto`: speakers once more than `speakersFrom` sources send audio here, all again once at most
   * 90 % of that many do (so a join and a leave at the boundary do not toggle every consumer).
   * Answers whether the mode changed (every consumer was refreshed then).
   */
  private updateMode(): boolean {
    if (this.forwarding.mode !== 'auto') return false;
    const senders = this.producerOf.size;
    const next = this.speakersActive ? senders > Math.floor(this.forwarding.speakersFrom * 0.9) : senders > this.forwarding.speakersFrom;
    if (next === this.speakersActive) return false;
    this.speakersActive = next;
    for (const source of this.consumersOf.keys()) this.refresh(source);
    return true;
  }

  private refresh(source: string): void {
    const held = !this.forwards(source);
    for (const consumer of this.consumersOf.get(source) ?? []) this.hold(consumer, held);
  }

  private hold(consumer: types.Consumer, held: boolean): void {
    // A failure is the consumer closing under us: nothing flows then.
    ConsumerGate.of(consumer)
      .set('notSelected', held)
      .catch(() => undefined);
  }
}
