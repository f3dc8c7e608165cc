import { EventEmitter } from 'node:events';
import type { CallMedia, CallMediaOptions, MediaPlane } from '../control/mediaPlane.js';
import { CallRouter, type MediaListenOptions } from './CallRouter.js';
import { CallSpeakers } from './CallSpeakers.js';
import { MediaFence } from './MediaFence.js';
import { MutedSpeechPoller } from './MutedSpeechPoller.js';
import type { WorkerPool } from './WorkerPool.js';

export interface MediasoupMediaPlaneObserverEvents {
  /**
   * A call's media is being opened (also a rebuild after a worker died), just before its first
   * router is announced on its own observer.
   */
  newcall: [CallRouter];
}

/**
 * The control plane's MediaPlane, backed by mediasoup: each call has a router on the least loaded
 * worker, and more routers on other workers as it grows (see CallRouter).
 */
export class MediasoupMediaPlane implements MediaPlane {
  readonly observer = new EventEmitter<MediasoupMediaPlaneObserverEvents>();
  private readonly fence = new MediaFence();
  private readonly mutedSpeech: MutedSpeechPoller;

  constructor(
    private readonly pool: WorkerPool,
    private readonly listen: MediaListenOptions,
    options: { mutedSpeechPollsPerSecond?: number } = {},
  ) {
    this.mutedSpeech = new MutedSpeechPoller(options.mutedSpeechPollsPerSecond);
    // Speaker-aware forwarding and speaker signals, per router of each call (see CallSpeakers).
    this.observer.on('newcall', (media) => {
      media.speakers = new CallSpeakers(media.observer, media.options.forwarding ?? { mode: 'all' }, this.mutedSpeech);
    });
  }

  async openCall(callId: string, options: CallMediaOptions = {}): Promise<CallMedia> {
    return CallRouter.open(callId, this.pool, this.listen, options, (media) => this.observer.emit('newcall', media), this.fence);
  }

  /** Whether every send stream is held paused (see MediaFence). */
  get fenced(): boolean {
    return this.fence.up;
  }

  /** Holds every send stream of every call paused; resolves once the workers confirmed. */
  raiseFence(): Promise<void> {
    return this.fence.raise();
  }

  /** Lets the send streams the domain wants flowing flow again. */
  liftFence(): Promise<void> {
    return this.fence.lift();
  }
}
