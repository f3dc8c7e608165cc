import type { types } from 'mediasoup';

/**
 * Why a consumer may be held paused. Each party owns its own reason and never clears another's:
 * - `unadopted`: just created, its endpoint has not said yet whether it may flow (nothing resumes it before);
 * - `deafened`: the receiver is deafened (MediaEndpoint);
 * - `client`: a WebRTC receiver has not resumed it yet (its track is not ready);
 * - `notSelected`: speaker-aware forwarding does not select its source now (SpeakerSelector).
 * A muted source needs none of these: its producer is paused in the worker, which stops every
 * consumer of it whatever their own state (mute safety never depends on this gate).
 */
export type HoldReason = 'unadopted' | 'deafened' | 'client' | 'notSelected';

const gates = new WeakMap<types.Consumer, ConsumerGate>();

/**
 * The one place that pauses and resumes a consumer: it flows exactly when nobody holds it. Each
 * state change is one request on the worker channel, issued synchronously (requests are handled
 * in order, so the worker ends in the state asked last); asking for the state already asked
 * returns that request's confirmation instead of asking again.
 */
export class ConsumerGate {
  private readonly holds = new Set<HoldReason>(['unadopted']);
  private requestedPaused: boolean;
  private confirmed: Promise<void> = Promise.resolve();

  private constructor(private readonly consumer: types.Consumer) {
    // As created: `paused` at consume() time.
    this.requestedPaused = consumer.paused;
  }

  static of(consumer: types.Consumer): ConsumerGate {
    let gate = gates.get(consumer);
    if (!gate) {
      gate = new ConsumerGate(consumer);
      gates.set(consumer, gate);
    }
    return gate;
  }

  /** Whether the last state asked of the worker lets the consumer flow. */
  get flowing(): boolean {
    return !this.requestedPaused;
  }

  held(reason: HoldReason): boolean {
    return this.holds.has(reason);
  }

  /** Sets or clears one hold; resolves once the worker confirmed the resulting state. */
  set(reason: HoldReason, held: boolean): Promise<void> {
    this.mark(reason, held);
    return this.apply();
  }

  /** The endpoint's own holds at adoption; from now on the consumer may flow when nobody holds it. */
  adopt(holds: Partial<Record<Exclude<HoldReason, 'unadopted' | 'notSelected'>, boolean>>): Promise<void> {
    for (const [reason, held] of Object.entries(holds) as [HoldReason, boolean][]) this.mark(reason, held);
    this.holds.delete('unadopted');
    return this.apply();
  }

  private mark(reason: HoldReason, held: boolean): void {
    if (held) this.holds.add(reason);
    else this.holds.delete(reason);
  }

  private apply(): Promise<void> {
    const paused = this.holds.size > 0;
    if (this.consumer.closed || paused === this.requestedPaused) return this.confirmed;
    this.requestedPaused = paused;
    // A consumer that closed meanwhile (its source replaced its stream or left, a request the
    // worker answers "not found") forwards nothing: for a pause that is the outcome asked for,
    // and a resume of it has nothing left to do. Failing would fail a deafen closed and tear
    // down the listener's media because of what another participant did.
    this.confirmed = (paused ? this.consumer.pause() : this.consumer.resume()).catch(async (err: unknown) => {
      // mediasoup's Channel settles a response at once but emits notifications (the worker's
      // "producerclose", sent before the "not found" answer) in a setImmediate: look after it.
      if (!this.consumer.closed) await new Promise((resolve) => setImmediate(resolve));
      if (this.consumer.closed) return;
      throw err;
    });
    return this.confirmed;
  }
}
