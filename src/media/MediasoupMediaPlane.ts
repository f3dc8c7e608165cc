import type { CallMedia, MediaPlane } from '../control/mediaPlane.js';
import { CallRouter, type MediaListenOptions } from './CallRouter.js';
import type { WorkerPool } from './WorkerPool.js';

/** The control plane's MediaPlane, backed by mediasoup: one router per call. */
export class MediasoupMediaPlane implements MediaPlane {
  constructor(
    private readonly pool: WorkerPool,
    private readonly listen: MediaListenOptions,
  ) {}

  async openCall(callId: string): Promise<CallMedia> {
    const router = await this.pool.createRouter();
    return new CallRouter(callId, router, this.listen);
  }
}
