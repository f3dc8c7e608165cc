import type { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { CallForwarding } from '../control/forwarding.js';
import type { SpeakerSignal } from '../control/mediaPlane.js';
import type { CallRouterObserverEvents } from './CallRouter.js';
import { AUDIO_LEVEL_URI } from './codecs.js';
import { MutedSpeechDetector } from './MutedSpeechDetector.js';
import type { MutedSpeechPoller } from './MutedSpeechPoller.js';
import { SpeakerSelector } from './SpeakerSelector.js';

/** How often the worker re-evaluates the dominant speaker (mediasoup's default). */
const DOMINANT_SPEAKER_INTERVAL_MS = 300;

interface RouterSpeakers {
  selector: SpeakerSelector;
  detector: MutedSpeechDetector;
}

/**
 * Speaker awareness of one call's media, attached per mediasoup Router through the CallRouter's
 * observer (it is told of every router, producer and consumer): speaker-aware forwarding
 * (SpeakerSelector), the dominant speaker (an ActiveSpeakerObserver in the call's first router,
 * which holds every producer of the call or its pipe copy) and talking-while-muted
 * (MutedSpeechDetector, on the participants' own producers).
 */
export class CallSpeakers {
  private readonly routers = new Map<types.Router, RouterSpeakers>();
  private readonly listeners: ((signal: SpeakerSignal) => void)[] = [];
  /** The router whose ActiveSpeakerObserver names the dominant speaker, and that observer. */
  private dominantRouter: types.Router | null = null;
  private dominantObserver: Promise<types.ActiveSpeakerObserver | null> | null = null;
  private readonly sourceOfProducer = new Map<string, string>();
  private lastDominant: string | null = null;

  constructor(
    observer: EventEmitter<CallRouterObserverEvents>,
    private readonly forwarding: CallForwarding,
    /** The gateway's one budget of readings for talking-while-muted (shared by every call). */
    private readonly mutedSpeech: MutedSpeechPoller,
  ) {
    observer.on('newrouter', ({ router }) => void this.of(router));
    observer.on('newproducer', ({ router, producer, participantId, pipe }) => this.onProducer(router, producer, participantId, pipe));
    observer.on('newconsumer', ({ router, consumer, sourceParticipantId }) => this.of(router).selector.addConsumer(sourceParticipantId, consumer));
  }

  onSignal(listener: (signal: SpeakerSignal) => void): void {
    this.listeners.push(listener);
  }

  /** Sources selected in each router (tests, diagnostics). */
  selectedSpeakers(): string[][] {
    return [...this.routers.values()].map((r) => r.selector.selected);
  }

  private of(router: types.Router): RouterSpeakers {
    let entry = this.routers.get(router);
    if (!entry) {
      const created: RouterSpeakers = {
        selector: new SpeakerSelector(router, this.forwarding),
        detector: new MutedSpeechDetector(this.mutedSpeech, (participantId, talking) => this.signal({ kind: 'talkingWhileMuted', participantId, talking })),
      };
      entry = created;
      this.routers.set(router, created);
      router.observer.once('close', () => {
        created.detector.close();
        this.routers.delete(router);
        if (this.dominantRouter === router) {
          this.dominantRouter = null;
          this.dominantObserver = null;
        }
      });
    }
    return entry;
  }

  private onProducer(router: types.Router, producer: types.Producer, participantId: string, pipe: boolean): void {
    const { selector, detector } = this.of(router);
    this.sourceOfProducer.set(producer.id, participantId);
    producer.observer.once('close', () => {
      if (this.sourceOfProducer.get(producer.id) === participantId && !pipe) this.sourceOfProducer.delete(producer.id);
    });
    selector.addProducer(participantId, producer);
    // Pipe copies pause with their original: only the participant's own producer is watched.
    if (!pipe) detector.addProducer(participantId, producer);
    if (!producer.rtpParameters.headerExtensions?.some((e) => e.uri === AUDIO_LEVEL_URI)) return;
    this.dominantRouter ??= router;
    if (this.dominantRouter !== router) return;
    this.dominantObserver ??= this.createDominantObserver(router);
    void this.dominantObserver.then((observer) => observer?.addProducer({ producerId: producer.id })).catch(() => undefined);
  }

  private async createDominantObserver(router: types.Router): Promise<types.ActiveSpeakerObserver | null> {
    try {
      const observer = await router.createActiveSpeakerObserver({ interval: DOMINANT_SPEAKER_INTERVAL_MS });
      observer.on('dominantspeaker', ({ producer }) => {
        const participantId = this.sourceOfProducer.get(producer.id) ?? null;
        if (participantId === this.lastDominant) return;
        this.lastDominant = participantId;
        this.signal({ kind: 'dominantSpeaker', participantId });
      });
      return observer;
    } catch {
      return null; // the router closed meanwhile
    }
  }

  private signal(signal: SpeakerSignal): void {
    for (const listener of this.listeners) {
      try {
        listener(signal);
      } catch {
        // A listener's failure must not stop the media's own bookkeeping (the domain reports its own).
      }
    }
  }
}
