/**
 * When (process.hrtime.bigint()) a participant operation passed each step in the domain, so a
 * transport can say where a request's time went (the HTTP API's Server-Timing header). Kept by
 * CallService beside the stored operation, never in it: clients do not see it in the resource.
 */
export interface OperationTimeline {
  /** Submitted to the identity's queue. */
  queuedAt: bigint;
  /** Its turn in the queue came. */
  startedAt?: bigint;
  /** The media worker was asked (mute/unmute of a participant with media). */
  mediaRequestedAt?: bigint;
  /** The media worker confirmed. */
  mediaConfirmedAt?: bigint;
  /** Finished: state, roster and metrics events done. */
  finishedAt?: bigint;
}
