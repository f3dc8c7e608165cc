import type { types } from 'mediasoup';

/**
 * The copies of one participant's producer in the other routers of its call (mediasoup
 * `pipeToRouter`): one pipe per destination router, created on first need and reused by every
 * consumer there. Closing the source producer closes its pipe consumers and, through mediasoup,
 * the pipe producers and every consumer of them.
 *
 * Mute and pipes. When the worker of the source router confirms `producer.pause()`, every
 * consumer of the producer in that router, the pipe consumers included, has been marked
 * producer-paused (worker Router::OnTransportProducerPaused → Consumer::ProducerPaused, before
 * the request is accepted), so PipeConsumer::SendRtpPacket sends nothing more into the pipe. But
 * packets it sent just before may still wait in the destination worker's socket, and that worker
 * (another process, maybe busy) would forward them after the mute's 200. mediasoup's own pause of
 * the pipe producer (Router.pipeToRouter: pipe consumer observer 'pause' → pipe producer pause())
 * is sent without waiting, so it is switched off (createPipe) and `pause()` here pauses every pipe
 * producer itself and resolves once each destination worker confirmed: from then on no worker
 * forwards anything of the participant.
 * It runs beside the source pause, so a mute costs the slowest worker's round trip, not the sum.
 */
export class ProducerPipes {
  private readonly pipes = new Map<types.Router, Promise<types.Producer>>();
  /** Whether the participant's stream should be paused (the latest pause()/resume() asked). */
  private paused: boolean;
  private closed = false;

  constructor(
    private readonly source: types.Producer,
    private readonly sourceRouter: types.Router,
    private readonly listenIp: string,
  ) {
    // A producer created paused (a muted participant) has paused pipes from the start.
    this.paused = source.paused;
    source.observer.once('close', () => this.close());
  }

  get producerId(): string {
    return this.source.id;
  }

  /**
   * The source producer as `router` sees it: itself in its own router, else its pipe producer
   * there (created once). A pipe producer is in the paused state the participant should be in
   * before anyone can consume it.
   */
  in(router: types.Router): Promise<types.Producer> {
    if (router === this.sourceRouter) return Promise.resolve(this.source);
    let pipe = this.pipes.get(router);
    if (!pipe) {
      const created = this.createPipe(router);
      this.pipes.set(router, created);
      const forget = () => {
        if (this.pipes.get(router) === created) this.pipes.delete(router);
      };
      // A failed or closed pipe (its router closed) is created again by the next consumer there.
      created.then((producer) => producer.observer.once('close', forget), forget);
      pipe = created;
    }
    return pipe;
  }

  /** Routers this producer is piped into (or being piped into). */
  get destinations(): types.Router[] {
    return [...this.pipes.keys()];
  }

  /** Pauses every pipe producer (existing and being created); resolves once their workers confirmed. */
  async pause(): Promise<void> {
    this.paused = true;
    await this.eachPipe((pipe) => pipe.pause());
  }

  /** Resumes every pipe producer; resolves once their workers confirmed. */
  async resume(): Promise<void> {
    this.paused = false;
    await this.eachPipe((pipe) => pipe.resume());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // The pipe consumers close with the source producer, and mediasoup closes each pipe producer
    // with its pipe consumer; a pipe still being created closes itself in createPipe.
    this.pipes.clear();
  }

  private async eachPipe(action: (pipe: types.Producer) => Promise<void>): Promise<void> {
    await Promise.all(
      [...this.pipes.values()].map(async (pending) => {
        // A pipe that could not be created carries nothing: nothing to pause.
        const pipe = await pending.catch(() => null);
        if (!pipe || pipe.closed) return;
        try {
          await action(pipe);
        } catch (err) {
          // Closed meanwhile (its router or worker went away): it carries nothing any more.
          if (!pipe.closed) throw err;
        }
      }),
    );
  }

  private async createPipe(router: types.Router): Promise<types.Producer> {
    const { pipeConsumer, pipeProducer } = await this.sourceRouter.pipeToRouter({
      producerId: this.source.id,
      router,
      listenInfo: { protocol: 'udp', ip: this.listenIp },
    });
    if (!pipeProducer || !pipeConsumer) throw new Error(`piping producer ${this.source.id} gave no pipe producer`);
    // mediasoup mirrors the source's pause state onto the pipe producer by itself (pipe consumer
    // observer 'pause'/'resume' → pipeProducer.pause()/resume(), not awaited). This class drives
    // every pipe producer, in order with the mutes and unmutes: a second, unordered writer could
    // only ever be late (a resume arriving after a newer pause) and doubles each mute's requests
    // to the destination worker. Only mediasoup listens there ('close' stays: it ties the pair).
    pipeConsumer.observer.removeAllListeners('pause');
    pipeConsumer.observer.removeAllListeners('resume');
    if (this.closed || this.source.closed) {
      pipeProducer.close();
      throw new Error(`producer ${this.source.id} closed while it was being piped`);
    }
    // mediasoup creates the pipe producer in the state its pipe consumer saw, then syncs it with
    // the source's last confirmed state. A mute or unmute in flight is newer than both: follow it
    // before the pipe is handed out (no consumer exists on it yet).
    if (this.paused && !pipeProducer.paused) await pipeProducer.pause();
    else if (!this.paused && pipeProducer.paused) await pipeProducer.resume();
    return pipeProducer;
  }
}
