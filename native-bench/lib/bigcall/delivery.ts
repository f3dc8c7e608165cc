/**
 * Delivery accounting at the sampled receivers: of the packets that should have been forwarded to
 * them during the steady window, how many arrived, how late, and what arrived that should not.
 * Pure: inputs are what the bench threads recorded.
 */

/** One probe packet received by a sampled receiver (columns, as the RTP thread records them). */
export interface ReceivedColumns {
  /** Sampled receiver slot. */
  receiver: ArrayLike<number>;
  senderId: ArrayLike<number>;
  counter: ArrayLike<number>;
  arrivedAtMs: ArrayLike<number>;
  sentAtMs: ArrayLike<number>;
}

export interface DeliveryInput {
  received: ReceivedColumns;
  /** Sampled receivers that joined: slot → the receiver's own senderId (it never hears itself). */
  receivers: ReadonlyMap<number, number>;
  /** Per joined sender: the counters it sent in the window, [from, to). */
  window: ReadonlyMap<number, readonly [number, number]>;
  /** Senders whose packets every other participant should get (all mode: everyone; speakers mode: the loud ones). */
  expected: ReadonlySet<number>;
  /** Senders left out of the accounting either way (the mute victims: their windows are analysed per mute). */
  ignored: ReadonlySet<number>;
}

export interface Delivery {
  /** Σ over sampled receivers and expected senders of the packets sent in the window. */
  expectedPackets: number;
  /** Of those, how many arrived (each counted once per receiver). */
  receivedPackets: number;
  /** received / expected; NaN when nothing was expected. */
  ratio: number;
  /** The worst sampled receiver's own ratio. */
  worstReceiverRatio: number;
  /** arrival − send time of every expected packet that arrived, ms. */
  latencyMs: number[];
  /** Packets sent in the window by senders that should not have been forwarded, yet arrived (speakers mode: quiet and silent talkers). */
  unexpectedPackets: number;
}

export function accountDelivery(input: DeliveryInput): Delivery {
  const { received, receivers, window, expected, ignored } = input;
  // One bitmap per (receiver, expected sender): duplicates count once.
  const seen = new Map<string, Uint8Array>();
  const latencyMs: number[] = [];
  const perReceiver = new Map<number, number>();
  let unexpectedPackets = 0;
  for (let i = 0; i < received.receiver.length; i++) {
    const receiver = received.receiver[i] as number;
    const sender = received.senderId[i] as number;
    const counter = received.counter[i] as number;
    const range = window.get(sender);
    if (!receivers.has(receiver) || !range || ignored.has(sender) || counter < range[0] || counter >= range[1]) continue;
    if (!expected.has(sender)) {
      unexpectedPackets++;
      continue;
    }
    const key = `${receiver}:${sender}`;
    let bits = seen.get(key);
    if (!bits) seen.set(key, (bits = new Uint8Array(range[1] - range[0])));
    const at = counter - range[0];
    if (bits[at]) continue;
    bits[at] = 1;
    latencyMs.push((received.arrivedAtMs[i] as number) - (received.sentAtMs[i] as number));
    perReceiver.set(receiver, (perReceiver.get(receiver) ?? 0) + 1);
  }
  let expectedPackets = 0;
  let worstReceiverRatio = NaN;
  for (const [slot, own] of receivers) {
    let due = 0;
    for (const sender of expected) {
      const range = window.get(sender);
      if (sender !== own && range && !ignored.has(sender)) due += range[1] - range[0];
    }
    expectedPackets += due;
    if (due > 0) {
      const r = (perReceiver.get(slot) ?? 0) / due;
      worstReceiverRatio = Number.isNaN(worstReceiverRatio) ? r : Math.min(worstReceiverRatio, r);
    }
  }
  return {
    expectedPackets,
    receivedPackets: latencyMs.length,
    ratio: expectedPackets > 0 ? latencyMs.length / expectedPackets : NaN,
    worstReceiverRatio,
    latencyMs,
    unexpectedPackets,
  };
}

/** Per sender: counter → first arrival at any sampled receiver (what analyzeMute reads for a victim). */
export function firstArrivals(received: ReceivedColumns, senderId: number): Map<number, number> {
  const first = new Map<number, number>();
  for (let i = 0; i < received.senderId.length; i++) {
    if (received.senderId[i] !== senderId) continue;
    const counter = received.counter[i] as number;
    const at = received.arrivedAtMs[i] as number;
    const seen = first.get(counter);
    if (seen === undefined || at < seen) first.set(counter, at);
  }
  return first;
}
