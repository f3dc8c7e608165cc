/** What the fence asks of each participant's media (MediaEndpoint). */
export interface Fenced {
  /** Pauses the send stream (and its pipe copies); resolves once the workers confirmed. */
  holdSend(): Promise<void>;
  /** Resumes the send stream if the domain wants it flowing (not muted); resolves once confirmed. */
  releaseSend(): Promise<void>;
}

/**
 * Silences every send stream of this process's media at once, whatever the participants' mute
 * state, and lifts that again. A cluster node uses it when its registration in Redis (its lease
 * on its calls) may have run out: another node may then take the calls over and answer mutes
 * for them, which this node would not see. While the fence stands, every producer is paused in
 * the worker and a new one is created paused; the domain's unmutes are remembered and carried
 * out when the fence is lifted, mutes act as always. Lifting resumes exactly the streams the
 * domain wants flowing.
 */
export class MediaFence {
  private raised = false;
  private readonly members = new Set<Fenced>();

  get up(): boolean {
    return this.raised;
  }

  track(member: Fenced): void {
    this.members.add(member);
  }

  untrack(member: Fenced): void {
    this.members.delete(member);
  }

  /** Raises the fence; resolves once every worker confirmed its pauses (failures are the media closing: nothing flows then). */
  async raise(): Promise<void> {
    this.raised = true;
    await Promise.all([...this.members].map((m) => m.holdSend().catch(() => undefined)));
  }

  /** Lifts the fence; resolves once the streams the domain wants flowing were resumed. */
  async lift(): Promise<void> {
    this.raised = false;
    await Promise.all([...this.members].map((m) => m.releaseSend().catch(() => undefined)));
  }
}
