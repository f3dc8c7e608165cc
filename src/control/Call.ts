import type { CallForwarding } from './forwarding.js';
import type { IdentitySet } from './identity.js';
import type { CallMedia } from './mediaPlane.js';
import { OperationStore } from './Operation.js';
import type { Participant } from './Participant.js';
import { Speaker } from './Speaker.js';

/**
 * Graph distinguishes group calls from peer-to-peer calls; participant mute is for group calls
 * only. A call is peer-to-peer when it was created with exactly one target and neither
 * meetingInfo nor chatInfo.
 */
export type CallKind = 'group' | 'peerToPeer';
export type CallState = 'established' | 'terminated';

export interface CallOptions {
  id: string;
  kind: CallKind;
  subject?: string;
  callbackUri?: string;
  tenantId?: string;
  /** The application's identity (Graph `source`): its participant is the one `/calls/{id}/mute` acts on. */
  source?: { identity: IdentitySet };
  appIdentityKey?: string;
  targets?: { identity: IdentitySet }[];
  operationsCapacity: number;
  muteOnEntry?: boolean;
  /** Who hears whom; absent = everyone hears every unmuted participant. */
  forwarding?: CallForwarding;
  /** When the call was first created (a call hosted again after its node died keeps it); default now. */
  createdDateTime?: Date;
}

/** Former leg ids remembered per call (see Call.currentLeg). */
const MAX_FORMER_LEGS = 10_000;

export class Call {
  readonly id: string;
  readonly kind: CallKind;
  readonly subject?: string;
  readonly callbackUri?: string;
  readonly tenantId?: string;
  readonly source?: { identity: IdentitySet };
  readonly targets: { identity: IdentitySet }[];
  readonly appIdentityKey?: string;
  readonly createdDateTime: Date;
  state: CallState = 'established';
  /** People joining for the first time start muted (a moderator setting). */
  muteOnEntry: boolean;
  /** Who hears whom (kept for a rebuild after a worker crash). */
  readonly forwarding: CallForwarding;
  /** The participant the media last named the dominant speaker (see SpeakerSignals); null: nobody. */
  dominantSpeakerId: string | null = null;
  /** Set while the media worker under this call is dead: participants have no media until rebuilt. */
  mediaLost = false;
  readonly participants = new Map<string, Participant>();
  /** Joins of new people that have started and not finished (they count against the participant limit). */
  joinsInProgress = 0;
  readonly operations: OperationStore;
  /** Sequence number of the latest roster change (0: none yet). */
  private rosterSeq = 0;
  private operationSeq = 0;
  private readonly speakers = new Map<string, Speaker>();
  /**
   * Participant ids of legs that left (replaced by a rejoin, removed, lost with their media), by
   * identity key: an action aimed at such an id acts on the person's current leg, so a participant
   * cannot dodge a moderator by rejoining faster than the moderator's roster updates.
   */
  private readonly formerLegs = new Map<string, { identityKey: string; replaced: boolean }>();

  constructor(
    options: CallOptions,
    /** The call's router; replaced when its worker died and the call was rebuilt. */
    public media: CallMedia,
  ) {
    this.id = options.id;
    this.kind = options.kind;
    this.subject = options.subject;
    this.callbackUri = options.callbackUri;
    this.tenantId = options.tenantId;
    this.source = options.source;
    this.targets = options.targets ?? [];
    this.appIdentityKey = options.appIdentityKey;
    this.operations = new OperationStore(options.operationsCapacity);
    this.muteOnEntry = options.muteOnEntry ?? false;
    this.forwarding = options.forwarding ?? { mode: 'all' };
    this.createdDateTime = options.createdDateTime ?? new Date();
  }

  /** The dominant speaker, if it is still in the call. */
  dominantSpeaker(): Participant | undefined {
    return this.dominantSpeakerId === null ? undefined : this.participants.get(this.dominantSpeakerId);
  }

  get rosterSequence(): number {
    return this.rosterSeq;
  }

  /**
   * A call taken over from a node that is gone continues its numbering past the last change that
   * node published, leaving one number out: subscribers elsewhere see a gap at the next change
   * and resync (the protocol's rule), so the legs lost with that node leave their view too.
   */
  continueRosterAfter(lastPublished: number): void {
    this.rosterSeq = Math.max(this.rosterSeq, lastPublished + 1);
  }

  nextRosterSequence(): number {
    return ++this.rosterSeq;
  }

  /** Numbers finished operations in the order they finished. */
  nextOperationSequence(): number {
    return ++this.operationSeq;
  }

  /** A call taken over from another node: its operations finished there up to `sequence`. */
  continueOperationsAfter(sequence: number): void {
    this.operationSeq = Math.max(this.operationSeq, sequence);
  }

  speakerFor(identityKey: string): Speaker {
    let speaker = this.speakers.get(identityKey);
    if (!speaker) {
      speaker = new Speaker(identityKey);
      this.speakers.set(identityKey, speaker);
    }
    return speaker;
  }

  /** Everyone who has a moderation state in this call (joined, or muted before joining). */
  allSpeakers(): IterableIterator<Speaker> {
    return this.speakers.values();
  }

  participantOf(identityKey: string): Participant | undefined {
    for (const participant of this.participants.values()) {
      if (participant.speaker.identityKey === identityKey) return participant;
    }
    return undefined;
  }

  /** Remembers that a leg left (`replaced`: by the same person's rejoin); bounded (the oldest are forgotten first). */
  recordFormerLeg(participantId: string, identityKey: string, replaced: boolean): void {
    this.formerLegs.set(participantId, { identityKey, replaced });
    if (this.formerLegs.size > MAX_FORMER_LEGS) this.formerLegs.delete(this.formerLegs.keys().next().value as string);
  }

  /**
   * The leg an action on `participantId` applies to: that leg if live, else its person's current
   * leg. `onlyReplaced`: follow only a leg that a rejoin replaced, not one that was removed (a
   * late or retried removal must not remove a person who was let back in).
   */
  currentLeg(participantId: string, { onlyReplaced = false } = {}): Participant | undefined {
    const live = this.participants.get(participantId);
    if (live) return live;
    const former = this.formerLegs.get(participantId);
    if (!former || (onlyReplaced && !former.replaced)) return undefined;
    return this.participantOf(former.identityKey);
  }

  /** The application's own participant, if it has joined. */
  appParticipant(): Participant | undefined {
    return this.appIdentityKey ? this.participantOf(this.appIdentityKey) : undefined;
  }
}
