import type { Call } from './Call.js';
import type { CallMedia, SpeakerSignal } from './mediaPlane.js';
import type { Participant } from './Participant.js';

/** At most one dominant-speaker change per call per this long (the latest one wins, sent late). */
export const DOMINANT_SPEAKER_MIN_INTERVAL_MS = 1000;

interface DominantState {
  /** Participant id the media named last and the roster does not show yet (undefined: nothing waiting). */
  pending?: string | null;
  lastChangeAt: number;
  timer?: NodeJS.Timeout;
}

/**
 * Turns the media's speaker signals into participant state and roster updates, bounded: a
 * participant's `talkingWhileMuted` changes only on a transition (the media decays it), and the
 * dominant speaker changes at most once per DOMINANT_SPEAKER_MIN_INTERVAL_MS per call. Nothing here
 * touches mute or forwarding: these are signals for people, not controls.
 */
export class SpeakerSignals {
  private readonly dominant = new WeakMap<Call, DominantState>();

  constructor(
    /** Tells every roster that a participant's visible state changed. */
    private readonly changed: (call: Call, participant: Participant) => void,
    private readonly minIntervalMs = DOMINANT_SPEAKER_MIN_INTERVAL_MS,
  ) {}

  /** Listens to this media of the call (a rebuilt call's new media is attached again). */
  attach(call: Call, media: CallMedia): void {
    // New media (a rebuild after a worker crash) knows nothing of what the old one said: start
    // over (the participants' `reconnect` roster changes carry the cleared state).
    for (const participant of call.participants.values()) {
      participant.mutedSpeech = false;
      participant.dominantSpeaker = false;
    }
    call.dominantSpeakerId = null;
    media.onSpeakerSignal?.((signal) => {
      // Signals of media the call no longer has (replaced after a worker crash) are stale.
      if (call.media !== media || call.state !== 'established') return;
      this.apply(call, signal);
    });
  }

  private apply(call: Call, signal: SpeakerSignal): void {
    if (signal.kind === 'talkingWhileMuted') {
      const participant = call.participants.get(signal.participantId);
      if (!participant) return;
      const before = participant.talkingWhileMuted;
      participant.mutedSpeech = signal.talking;
      if (participant.talkingWhileMuted !== before) this.changed(call, participant);
      return;
    }
    let state = this.dominant.get(call);
    if (!state) {
      state = { lastChangeAt: -Infinity };
      this.dominant.set(call, state);
    }
    state.pending = signal.participantId;
    const wait = state.lastChangeAt + this.minIntervalMs - Date.now();
    if (wait <= 0) this.showDominant(call, state);
    else state.timer ??= setTimeout(() => this.showDominant(call, state), wait).unref();
  }

  private showDominant(call: Call, state: DominantState): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = undefined;
    const next = state.pending;
    state.pending = undefined;
    if (next === undefined || call.state !== 'established') return;
    const current = call.dominantSpeaker();
    const incoming = next === null ? undefined : call.participants.get(next);
    if (incoming === current) return;
    state.lastChangeAt = Date.now();
    call.dominantSpeakerId = incoming?.id ?? null;
    if (current) {
      current.dominantSpeaker = false;
      this.changed(call, current);
    }
    if (incoming) {
      incoming.dominantSpeaker = true;
      this.changed(call, incoming);
    }
  }
}
