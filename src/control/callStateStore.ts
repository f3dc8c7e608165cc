import type { CallKind } from './Call.js';
import type { CallForwarding } from './forwarding.js';
import type { IdentitySet } from './identity.js';
import type { Operation } from './Operation.js';

/**
 * Where a call and its people's moderation state live beyond this process (the cluster's Redis,
 * see src/cluster). The domain owns this interface; without a cluster there is no store and
 * everything stays in memory as before.
 *
 * The rule it serves: mute, lock, deafen and hand state per identity and call is written before
 * it is acknowledged, so a call re-placed on another node (its node died or restarted) starts
 * every muted identity's new producer paused. Restrictive changes (mute, lock, deafen) are
 * enforced even when the store cannot be written: the media is what mutes, and the change is
 * written as soon as the store is back. Permissive ones (unmute, unlock, undeafen) need it.
 */
export interface CallStateStore {
  /** False while writes cannot reach the store (permissive changes are refused meanwhile). */
  readonly writable: boolean;
  /** Records a new call as hosted here; throws if it cannot (the call is then not created). */
  saveCall(call: StoredCallSettings): Promise<void>;
  /** A call setting changed (mute on entry). Best effort like saveSpeaker. */
  updateCall(call: StoredCallSettings): Promise<void>;
  /**
   * One identity's state; resolves once written, or once remembered for writing when the store is
   * back (never rejects: the caller decides from `writable` beforehand whether it may go on).
   */
  saveSpeaker(callId: string, identityKey: string, state: StoredSpeaker): Promise<void>;
  /** The call ended: its state is dropped (a rejoin to an ended call is a 404 everywhere). */
  endCall(callId: string): Promise<void>;
}

/** A call as a node needs it to host it again: its settings, nothing of its media or legs. */
export interface StoredCallSettings {
  id: string;
  kind: CallKind;
  createdDateTime: string;
  subject?: string;
  callbackUri?: string;
  tenantId?: string;
  source?: { identity: IdentitySet };
  appIdentityKey?: string;
  targets: { identity: IdentitySet }[];
  muteOnEntry: boolean;
  forwarding: CallForwarding;
}

/** The moderation state of one identity in one call (see Speaker). */
export interface StoredSpeaker {
  muted: boolean;
  locked: boolean;
  deafened: boolean;
  handRaised: boolean;
  hasJoined: boolean;
}

/** A call taken over from a node that is gone, with the state of everyone who was in it. */
export interface StoredCall {
  settings: StoredCallSettings;
  speakers: Map<string, StoredSpeaker>;
  /** The last roster sequence its previous node published (0: none). */
  rosterSequence: number;
  /** Its finished operations, oldest first (still readable after the take-over). */
  operations: Operation[];
}
