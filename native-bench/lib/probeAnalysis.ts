/**
 * Turns what the probe sent and what the receivers got into per-operation results. All times
 * are ms on one monotonic clock (the bench's), so send times and request times compare exactly.
 */

export interface MuteWindow {
  /** When the mute request was sent, and when its acknowledgement (HTTP 200 / resolved pause) arrived. */
  requestAt: number;
  ackAt: number;
  /** When the following unmute request was sent (the window's end). */
  unmuteRequestAt: number;
  unmuteAckAt: number;
}

export interface MuteResult {
  /** ack − request. */
  apiLatencyMs: number;
  /** Send time of the last forwarded probe packet, relative to the request (lower bound of enforcement). */
  enforcementLowMs: number;
  /** Send time of the first dropped probe packet, relative to the request (upper bound). */
  enforcementHighMs: number;
  /**
   * Probe packets sent after the mute ack arrived and forwarded before the unmute was even
   * requested: forwarded while muted, for certain. Must be 0.
   */
  leakAfterAck: number;
  /**
   * Packets sent after the ack that arrived after the unmute request: in flight (UDP buffers)
   * while the unmute was applied, so forwarded legitimately. Reported, not a leak.
   */
  forwardedAcrossUnmute: number;
  /** Unmute: send time of the first forwarded packet after the unmute request, relative to it. */
  unmuteFirstForwardedMs: number;
  /** Unmute: ack − request. */
  unmuteApiLatencyMs: number;
}

/**
 * @param sentAt    send time of every probe packet, indexed by its counter
 * @param forwarded the probe packets that reached at least one receiver: counter → first arrival time
 */
export function analyzeMute(sentAt: readonly number[], forwarded: ReadonlyMap<number, number>, w: MuteWindow): MuteResult {
  // The last forwarded packet sent before the unmute request (looking back at most 1 s before the mute).
  // Packets sent after the ack that arrived only after the unmute request were let through by the
  // unmute (in flight while it was applied), not by a late mute: they do not move the bound.
  const end = lowerBound(sentAt, w.unmuteRequestAt);
  const afterAck = lowerBound(sentAt, w.ackAt);
  let lastForwarded = -1;
  for (let c = lowerBound(sentAt, w.requestAt - 1000); c < end; c++) {
    const arrivedAt = forwarded.get(c);
    if (arrivedAt !== undefined && !(c >= afterAck && arrivedAt >= w.unmuteRequestAt)) lastForwarded = c;
  }

  let leak = 0;
  let acrossUnmute = 0;
  for (let c = afterAck; c < end; c++) {
    const arrivedAt = forwarded.get(c);
    if (arrivedAt === undefined) continue;
    if (arrivedAt < w.unmuteRequestAt) leak++;
    else acrossUnmute++;
  }

  let firstAfterUnmute = -1;
  for (let c = end; c < sentAt.length; c++) {
    if (forwarded.has(c)) {
      firstAfterUnmute = c;
      break;
    }
  }
  const at = (c: number) => (c >= 0 && c < sentAt.length ? (sentAt[c] as number) : NaN);
  return {
    apiLatencyMs: w.ackAt - w.requestAt,
    enforcementLowMs: lastForwarded < 0 ? NaN : at(lastForwarded) - w.requestAt,
    enforcementHighMs: lastForwarded < 0 ? NaN : at(lastForwarded + 1) - w.requestAt,
    leakAfterAck: leak,
    forwardedAcrossUnmute: acrossUnmute,
    unmuteFirstForwardedMs: at(firstAfterUnmute) - w.unmuteRequestAt,
    unmuteApiLatencyMs: w.unmuteAckAt - w.unmuteRequestAt,
  };
}

/** First index whose value is ≥ x (values ascending). */
function lowerBound(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
