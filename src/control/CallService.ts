import { randomUUID } from 'node:crypto';
import { SafeEventEmitter } from '../lib/SafeEventEmitter.js';
import { Call, type CallKind } from './Call.js';
import { sanitizeCreateCallInput, sanitizeJoinInput, sanitizeSendSpec } from './callInput.js';
import type { CallStateStore, StoredCall, StoredCallSettings, StoredSpeaker } from './callStateStore.js';
import { callMediaLost, DomainError, mediaCapacityExceeded, notFound, shuttingDown } from './errors.js';
import { identityKey, type IdentitySet } from './identity.js';
import { InvalidMediaRequest, MediaCapacityExceeded, type CallMedia, type EndpointMedia, type EndpointStart, type MediaPlane, type ProducerStart } from './mediaPlane.js';
import type { ActorRole } from './Policy.js';
import { newOperation, type Operation, type OperationType } from './Operation.js';
import type { OperationTimeline } from './OperationTimeline.js';
import { Participant, type MediaSpec, type RtpMediaSpec } from './Participant.js';
import type { Speaker } from './Speaker.js';
import { opaqueText } from './text.js';
import { sanitizeForwarding, type CallForwarding } from './forwarding.js';
import { SpeakerSignals } from './SpeakerSignals.js';
import { confirmWithin, DEFAULT_MUTE_CONFIRM_TIMEOUT_MS, NotConfirmedInTime } from './confirmWithin.js';

export interface CreateCallInput {
  subject?: string;
  callbackUri?: string;
  tenantId?: string;
  source?: { identity: IdentitySet };
  targets?: { identity: IdentitySet }[];
  /** Present (any value) for meeting calls; only its presence matters here. */
  meetingInfo?: unknown;
  chatInfo?: unknown;
  /** Joins the application's own participant (identity = source.identity) with the call. */
  media?: RtpMediaSpec;
  /** People joining for the first time start muted. */
  muteOnEntry?: boolean;
  /** Who hears whom (see control/forwarding.ts); absent = the service's default. */
  forwarding?: unknown;
}

export interface JoinInput {
  identity: IdentitySet;
  media: MediaSpec;
}

/** Graph: clientContext is an opaque string of at most 256 characters, echoed back as sent. */
export const CLIENT_CONTEXT_MAX_LENGTH = 256;

/** Graph resultInfo codes are HTTP-like. */
const resultCodeByKind: Record<DomainError['kind'], number> = {
  invalidRequest: 400,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  rateLimited: 429,
  mediaUnavailable: 503,
};

/**
 * Why a participant left, on every `left` roster change (so a client can tell "moved to your
 * other device" from "removed by a moderator"):
 * - `removed`: the application or a moderator removed it (DELETE …/participants/{id});
 * - `left`: it left by itself: its own DELETE, a `leave` on its signaling connection, or that
 *   connection closed (or its ICE/DTLS failed) and the grace period ran out, or its WebRTC join
 *   was undone (the router refused its RTP capabilities);
 * - `replaced`: the same identity joined again (another device or leg); the new leg follows;
 * - `callEnded`: the call ended (these come before the `callEnded` change);
 * - `mediaLost`: its worker died and its media could not be rebuilt here (a WebRTC participant
 *   is told to join again).
 */
export type LeaveReason = 'removed' | 'left' | 'replaced' | 'callEnded' | 'mediaLost';

/**
 * One change to a call's roster, numbered per call (1, 2, 3, …) so that subscribers can detect
 * a gap. `updated` means the participant's confirmed state changed (mute, unmute).
 */
export type RosterChange =
  | { kind: 'joined'; sequence: number; participant: Participant }
  | { kind: 'updated'; sequence: number; participant: Participant }
  /** The participant's media was rebuilt after a worker crash: plain RTP sends to its new media.send. */
  | { kind: 'reconnect'; sequence: number; participant: Participant }
  | { kind: 'left'; sequence: number; participant: Participant; reason: LeaveReason }
  | { kind: 'callEnded'; sequence: number };

export interface CallServiceEvents {
  callCreated: [call: Call];
  /** Emitted synchronously, in sequence order, after the change is visible in the domain. */
  roster: [call: Call, change: RosterChange];
  /** A mute/unmute operation finished (completed or failed); duration from request to worker confirmation. */
  operationFinished: [operation: Operation, durationSeconds: number];
  /** At unmute: RTP packets the worker received from the participant and dropped while it was muted. */
  mutedPacketsDropped: [call: Call, participant: Participant, packets: number];
  callMediaLost: [call: Call, reason: string];
  /** The call has a new router and every plain-RTP participant new media (mute state kept). */
  callMediaRecovered: [call: Call];
  /**
   * A WebRTC participant lost its transports with the worker and was removed; its client must
   * join again (with the same identity, so its mute state is kept).
   */
  reconnectRequired: [call: Call, participant: Participant, reason: string];
  /** A moderator asked a muted participant to unmute itself. */
  unmuteRequested: [call: Call, participant: Participant, clientContext: string | undefined];
}

export interface CallServiceOptions {
  operationsPerCall: number;
  /** Participants one call may hold (a token that may add participants cannot take every port). */
  participantsPerCall?: number;
  /** Requests a person may have unfinished about its own identity (limits.ownRequestsInFlight); more are refused (429). */
  ownRequestsInFlight?: number;
  /** Requests per second a person may make about its own identity, in a burst of twice that (limits.ownRequestsPerSecond). */
  ownRequestsPerSecond?: number;
  /** Joins, new send streams and WebRTC produces a person may make of itself per minute (limits.ownMediaChangesPerMinute). */
  ownMediaChangesPerMinute?: number;
  /** Waits between attempts to get a new router after a worker died (the last one repeats). */
  recoveryRetryDelaysMs?: number[];
  /** Forwarding of calls created without one (config media.forwarding); absent = everyone hears everyone. */
  forwarding?: CallForwarding;
  /** Values of the fields a call's `forwarding` leaves out (config media.forwarding). */
  forwardingDefaults?: { maxSpeakers: number; silenceDbov: number; speakersFrom: number };
  /**
   * The bound on every worker confirmation a mute relies on (pause, resume, a muted participant's
   * paused stream): past it the operation fails closed (config media.muteConfirmTimeoutMs).
   */
  muteConfirmTimeoutMs?: number;
  /**
   * Where calls and moderation state are kept beyond this process (config cluster.redisUrl, see
   * callStateStore.ts); absent: in memory only.
   */
  stateStore?: CallStateStore;
}

export interface CallStats {
  calls: number;
  participants: number;
  mutedParticipants: number;
}

/**
 * The domain: calls, participants and their mute state. The mute state of each identity is
 * authoritative and every change to it, and to that identity's media, runs in the identity's
 * own queue (see Speaker). A mute completes only after the media plane confirmed it.
 *
 * Events are emitted safely (SafeEventEmitter): a listener that throws is reported through
 * onListenerError and never changes the outcome of the operation that emitted.
 */
export class CallService extends SafeEventEmitter<CallServiceEvents> {
  private readonly calls = new Map<string, Call>();
  /** Set by close(): from then on a call that is gone was ended by the shutdown (503), not unknown (404). */
  private closing = false;
  /** Where each participant operation's time went (see OperationTimeline). */
  private readonly timelines = new WeakMap<Operation, OperationTimeline>();
  /** Dominant speaker and talking-while-muted, from the media to the roster (bounded). */
  private readonly speakerSignals = new SpeakerSignals((call, participant) => this.emitUpdated(call, participant));
  /** See CallServiceOptions.muteConfirmTimeoutMs. */
  readonly muteConfirmTimeoutMs: number;
  /** The moderation state last written to the cluster's store, per identity (see persistSpeaker). */
  private readonly persisted = new WeakMap<Speaker, string>();

  constructor(
    private readonly mediaPlane: MediaPlane,
    private readonly options: CallServiceOptions,
  ) {
    super();
    this.muteConfirmTimeoutMs = options.muteConfirmTimeoutMs ?? DEFAULT_MUTE_CONFIRM_TIMEOUT_MS;
  }

  /**
   * `work` (a media request) if the worker confirms it within the bound, else NotConfirmedInTime;
   * `late` undoes what the worker completes after the caller gave up (see confirmWithin).
   */
  confirmed<T>(work: Promise<T>, what: string, late?: (value: T) => void): Promise<T> {
    return confirmWithin(work, this.muteConfirmTimeoutMs, what, late);
  }

  /**
   * Runs a media step that creates a producer (a join, a new send stream, a rebuild, a WebRTC
   * produce). A muted participant's step relies on the worker creating that producer paused, so
   * that one confirmation is bounded: not confirmed in time, the step fails at once with
   * NotConfirmedInTime and what it builds afterwards goes to `late` (to be closed). The rest of
   * the step (the call's queue, placement, consumers) is not a pause and is not bounded here:
   * a burst of muted joins into a large call must not fail because they wait for each other.
   */
  withPausedStart<T>(sendPaused: boolean, step: (start: ProducerStart) => Promise<T>, late: (value: T) => void): Promise<T> {
    if (!sendPaused) return step({ sendPaused });
    let unconfirmed!: (err: NotConfirmedInTime) => void;
    const failed = new Promise<never>((_resolve, reject) => (unconfirmed = reject));
    const work = step({
      sendPaused,
      producing: (created) => {
        this.confirmed(created, "the muted participant's paused producer").catch((err: unknown) => {
          // A refusal fails the step itself; only the missing confirmation ends it early.
          if (err instanceof NotConfirmedInTime) unconfirmed(err);
        });
      },
    });
    return Promise.race([work, failed]).catch((err: unknown) => {
      if (err instanceof NotConfirmedInTime) work.then(late, () => undefined);
      throw err;
    });
  }

  async createCall(input: CreateCallInput): Promise<Call> {
    if (this.closing) throw shuttingDown();
    // A call nobody else can find (its node map entry) would be half a call: refused up front.
    this.requireDurableState('create a call');
    // The call keeps its own bounded copy of what it stores (see callInput.ts): a refused field
    // refuses the request before anything exists.
    const settings = sanitizeCreateCallInput(input);
    let appIdentityKey: string | undefined;
    if (settings.source) appIdentityKey = this.keyOf(settings.source.identity, 'source.identity');
    if (settings.media && !appIdentityKey) {
      throw new DomainError('invalidRequest', 'sourceIdentityRequired', 'media for the application participant needs source.identity');
    }
    for (const [i, target] of settings.targets.entries()) this.keyOf(target.identity, `targets[${i}].identity`);

    const kind: CallKind = settings.targets.length === 1 && !settings.meeting ? 'peerToPeer' : 'group';
    const id = randomUUID();
    const forwarding = this.forwardingOf(input);
    const media = await this.openMedia(id, forwarding);
    const call = new Call(
      {
        id,
        kind,
        subject: settings.subject,
        callbackUri: settings.callbackUri,
        tenantId: settings.tenantId,
        source: settings.source,
        appIdentityKey,
        targets: settings.targets,
        operationsCapacity: this.options.operationsPerCall,
        muteOnEntry: settings.muteOnEntry,
        forwarding,
      },
      media,
    );
    media.onLost((reason) => this.onMediaLost(call, media, reason));
    this.speakerSignals.attach(call, media);

    // The call is listed (and announced) only once it has the participant the request asked for:
    // nobody can see or subscribe to a call whose creation still fails.
    if (settings.media && settings.source) {
      try {
        await this.join(call, { identity: settings.source.identity, media: settings.media });
      } catch (err) {
        // Nothing half-done: a failed join left no participant, and nobody knew of the call.
        call.state = 'terminated';
        call.media.close();
        throw err;
      }
    }
    if (this.closing) {
      // The shutdown ended every listed call while this one was being set up.
      this.endCall(call);
      throw shuttingDown();
    }
    if (this.options.stateStore) {
      try {
        await this.options.stateStore.saveCall(storedSettingsOf(call));
      } catch (err) {
        call.state = 'terminated';
        call.media.close();
        throw stateUnavailable('create a call', (err as Error).message);
      }
      for (const participant of call.participants.values()) {
        // Written again: the join's write, before the call was in the store, did not take.
        this.persisted.delete(participant.speaker);
        await this.persistSpeaker(call, participant.speaker);
      }
    }
    this.calls.set(id, call);
    this.emit('callCreated', call);
    return call;
  }

  /** A new call's forwarding: as asked (absent fields from the default), else the default. */
  private forwardingOf(input: CreateCallInput): CallForwarding {
    if (input.forwarding === undefined) return this.options.forwarding ?? { mode: 'all' };
    return sanitizeForwarding(input.forwarding, this.options.forwardingDefaults);
  }

  /** The media of a new call; a media plane that cannot open one is a 503, not an internal error. */
  private async openMedia(callId: string, forwarding: CallForwarding): Promise<CallMedia> {
    try {
      return await this.mediaPlane.openCall(callId, { forwarding });
    } catch (err) {
      if (err instanceof DomainError) throw err;
      throw new DomainError('mediaUnavailable', 'mediaRequestFailed', `no media worker could open the call: ${(err as Error).message}`);
    }
  }

  /**
   * Hosts a call again that was hosted by a node that is gone (config cluster): its settings and
   * everyone's moderation state as stored, a new router, nobody in it yet. A muted identity that
   * joins again starts paused, as on the node that died.
   */
  async adoptCall(stored: StoredCall): Promise<Call> {
    if (this.closing) throw shuttingDown();
    const here = this.calls.get(stored.settings.id);
    if (here) return here;
    const { settings } = stored;
    const media = await this.openMedia(settings.id, settings.forwarding);
    // Another request for the same call may have adopted it meanwhile: one Call per id.
    const raced = this.calls.get(settings.id);
    if (raced) {
      media.close();
      return raced;
    }
    const call = new Call(
      {
        id: settings.id,
        kind: settings.kind,
        subject: settings.subject,
        callbackUri: settings.callbackUri,
        tenantId: settings.tenantId,
        source: settings.source,
        appIdentityKey: settings.appIdentityKey,
        targets: settings.targets,
        operationsCapacity: this.options.operationsPerCall,
        muteOnEntry: settings.muteOnEntry,
        forwarding: settings.forwarding,
        createdDateTime: new Date(settings.createdDateTime),
      },
      media,
    );
    for (const [key, state] of stored.speakers) Object.assign(call.speakerFor(key), state);
    call.continueRosterAfter(stored.rosterSequence);
    for (const operation of stored.operations) call.operations.add(operation);
    // "The highest finishedSequence stands": the operations finished here come after the adopted ones.
    call.continueOperationsAfter(stored.operations.reduce((highest, operation) => Math.max(highest, operation.finishedSequence ?? 0), 0));
    media.onLost((reason) => this.onMediaLost(call, media, reason));
    this.speakerSignals.attach(call, media);
    this.calls.set(call.id, call);
    return call;
  }

  /** Every call hosted here as the cluster's store keeps it (written again in full when Redis is back). */
  storedCalls(): StoredCall[] {
    return [...this.calls.values()].map(storedCallOf);
  }

  /** One call hosted here as the store keeps it, as it is at this moment; undefined: not hosted here. */
  storedCall(callId: string): StoredCall | undefined {
    const call = this.calls.get(callId);
    return call ? storedCallOf(call) : undefined;
  }

  /** The ids of the calls hosted here. */
  hostedCallIds(): string[] {
    return [...this.calls.keys()];
  }

  /** Set once close() began: the calls that end now end on this node only (with a cluster, they go on elsewhere). */
  get shuttingDown(): boolean {
    return this.closing;
  }

  /** Whether the call is hosted by this process. */
  hasCall(callId: string): boolean {
    return this.calls.has(callId);
  }

  getCall(callId: string): Call {
    const call = this.calls.get(callId);
    if (!call) throw this.callGone(callId);
    return call;
  }

  listCalls(): Call[] {
    return [...this.calls.values()];
  }

  deleteCall(callId: string): void {
    this.endCall(this.getCall(callId));
  }

  async addParticipant(callId: string, input: JoinInput): Promise<Participant> {
    return this.join(this.getCall(callId), input);
  }

  /** The participant of an identity (`kind:id`, see identityKey) in a call. */
  participantOfIdentity(callId: string, key: string): Participant {
    const participant = this.getCall(callId).participantOf(key);
    if (!participant) {
      throw new DomainError('notFound', 'participantNotFound', `${key} has no participant in call ${callId}`);
    }
    return participant;
  }

  /** Every call in which the identity has a participant, with that participant. */
  callsOfIdentity(key: string): { call: Call; participant: Participant }[] {
    const found: { call: Call; participant: Participant }[] = [];
    for (const call of this.calls.values()) {
      const participant = call.participantOf(key);
      if (participant) found.push({ call, participant });
    }
    return found;
  }

  /** The live participant with this id (reads: a leg that left is not found). */
  getParticipant(callId: string, participantId: string): Participant {
    const participant = this.getCall(callId).participants.get(participantId);
    if (!participant) throw notFound('participant', participantId);
    return participant;
  }

  /**
   * The participant an action aimed at `participantId` applies to: that leg, or, if it has left
   * (a rejoin replaced it, it was removed and came back), the same person's current leg. Actions
   * are about people: a rejoin must not dodge a mute, a lock or a removal.
   */
  actionTarget(callId: string, participantId: string, opts: { onlyReplaced?: boolean } = {}): Participant {
    const participant = this.getCall(callId).currentLeg(participantId, opts);
    if (!participant) throw notFound('participant', participantId);
    return participant;
  }

  /**
   * Removes a person's leg (a moderator's or its own DELETE): the current one, even after a
   * rejoin; but a leg that was already removed stays removed (a retried DELETE is a 404).
   * `reason` is what the roster says: `left` when the participant removed itself.
   */
  async removeParticipant(callId: string, participantId: string, reason: 'removed' | 'left' = 'removed'): Promise<void> {
    const call = this.getCall(callId);
    const participant = this.actionTarget(callId, participantId, { onlyReplaced: true });
    await participant.speaker.queue.run(async () => {
      this.detach(call, this.liveLeg(call, participant), reason);
    });
  }

  /**
   * Removes exactly this leg, if it is still there (a signaling connection that closed, a leave
   * on that connection, a WebRTC join undone): a newer leg of the same person, from another
   * connection, stays. The roster says `left`: the participant's own side ended it.
   */
  async removeLeg(participant: Participant): Promise<void> {
    const call = this.getCall(participant.callId);
    await participant.speaker.queue.run(async () => {
      if (call.participants.get(participant.id) !== participant) throw this.closing ? shuttingDown() : notFound('participant', participant.id);
      this.detach(call, participant, 'left');
    });
  }

  /** Replaces a participant's send stream (e.g. a SIP re-INVITE with a new SSRC); a muted one stays silent. */
  async replaceParticipantMedia(callId: string, participantId: string, request: { payloadType: number; ssrc: number }): Promise<Participant> {
    // The audio-level extension id is not part of the new stream: it stays the join's (below).
    const { audioLevelExtensionId, ...spec } = sanitizeSendSpec(request, 'media');
    const call = this.getCall(callId);
    const requested = this.actionTarget(callId, participantId);
    return requested.speaker.queue.run(async () => {
      const participant = this.liveLeg(call, requested);
      const media = participant.media;
      if (!media) throw callMediaLost(call.id);
      if (participant.mediaSpec.kind !== 'rtp') {
        throw new DomainError('invalidRequest', 'notAnRtpParticipant', `participant ${participantId} is a WebRTC participant; it produces over signaling`);
      }
      // A new send stream keeps the join's audio-level extension id (README). A PATCH naming
      // another one would otherwise be answered 200 while the level is still read under the old
      // id (or none): refused before anything changes. Naming the same id is fine.
      const joined = participant.mediaSpec.audioLevelExtensionId ?? null;
      if (audioLevelExtensionId !== undefined && audioLevelExtensionId !== joined) {
        throw new DomainError(
          'invalidRequest',
          'invalidMedia',
          `media.audioLevelExtensionId ${audioLevelExtensionId} differs from the join's (${joined ?? 'none'}): a new send stream keeps the join's audio-level extension id; join again to change it`,
        );
      }
      const callMedia = call.media;
      const sendPaused = participant.speaker.muted;
      try {
        // A muted participant's new producer must be confirmed paused in time, or its media goes.
        await this.withPausedStart(sendPaused, (start) => media.replaceSendStream(spec, start), () => undefined);
      } catch (err) {
        if (err instanceof NotConfirmedInTime) {
          // The old stream is closed, the new one starts paused; fail closed all the same, so a
          // late producer can never meet a later unmute half set up.
          media.close();
          participant.media = null;
          throw muteNotConfirmed(err, "the muted participant's new stream");
        }
        throw this.mediaFailure(call, callMedia, err, "could not replace the participant's send stream");
      }
      participant.mediaSpec = { ...participant.mediaSpec, payloadType: spec.payloadType, ssrc: spec.ssrc };
      return participant;
    });
  }

  /**
   * Runs a request a person makes about its own identity (its mute, unmute, hand, send stream,
   * join, leave) within the limit of such requests (Speaker.admitOwnRequest): a moderator's
   * action on that person then waits behind at most that many of them. A `mediaChange` (its join,
   * a new send stream, a WebRTC produce: each rebuilds what everyone else receives of it) is also
   * held to limits.ownMediaChangesPerMinute.
   */
  async ownRequest<T>(speaker: Speaker, run: () => Promise<T>, mediaChange = false): Promise<T> {
    const release = speaker.admitOwnRequest(
      {
        inFlight: this.options.ownRequestsInFlight ?? Infinity,
        perSecond: this.options.ownRequestsPerSecond ?? Infinity,
        mediaChangesPerMinute: this.options.ownMediaChangesPerMinute ?? Infinity,
      },
      mediaChange,
    );
    try {
      return await run();
    } finally {
      release();
    }
  }

  /**
   * Runs a request as `role` decided it: the person's own (`self`) within the limit of such
   * requests (ownRequest, on the identity `speaker` gives), anyone else's as it is.
   */
  requestAs<T>(role: ActorRole, speaker: () => Speaker, run: () => Promise<T>, mediaChange = false): Promise<T> {
    return role === 'self' ? this.ownRequest(speaker(), run, mediaChange) : run();
  }

  /** The speaker (the identity's state and queue) a join of `identity` into the call uses. */
  speakerForJoin(callId: string, identity: IdentitySet): Speaker {
    return this.getCall(callId).speakerFor(this.keyOf(identity, 'info.identity'));
  }

  /**
   * Server-mutes a participant. `role` is how the caller relates to it (the adapters decide with
   * Policy): muting someone else is for group calls only, as in Graph; anyone may mute
   * themselves. `receivedAt` (process.hrtime) is when the adapter received the request; the
   * enforcement latency is measured from there.
   */
  async muteParticipant(callId: string, participantId: string, clientContext?: string, receivedAt?: bigint, role: ActorRole = 'app'): Promise<Operation> {
    return this.runMuteOperation('muteParticipant', this.getCall(callId), participantId, { clientContext, receivedAt, role });
  }

  async unmuteParticipant(callId: string, participantId: string, clientContext?: string, receivedAt?: bigint, role: ActorRole = 'app'): Promise<Operation> {
    return this.runMuteOperation('unmuteParticipant', this.getCall(callId), participantId, { clientContext, receivedAt, role });
  }

  /** A participant muting its own leg (Graph app self-mute, a Genesys agent's MuteCall): any call kind. */
  async muteOwn(callId: string, participantId: string, clientContext?: string, receivedAt?: bigint): Promise<Operation> {
    return this.muteParticipant(callId, participantId, clientContext, receivedAt, 'self');
  }

  async unmuteOwn(callId: string, participantId: string, clientContext?: string, receivedAt?: bigint): Promise<Operation> {
    return this.unmuteParticipant(callId, participantId, clientContext, receivedAt, 'self');
  }

  /** Graph `POST /calls/{id}/mute`: the application mutes its own participant. */
  async muteApp(callId: string, clientContext?: string, receivedAt?: bigint): Promise<Operation> {
    return this.muteOwn(callId, this.appParticipantOf(this.getCall(callId)).id, clientContext, receivedAt);
  }

  async unmuteApp(callId: string, clientContext?: string, receivedAt?: bigint): Promise<Operation> {
    return this.unmuteOwn(callId, this.appParticipantOf(this.getCall(callId)).id, clientContext, receivedAt);
  }

  getOperation(callId: string, operationId: string): Operation {
    const operation = this.getCall(callId).operations.get(operationId);
    if (!operation) throw notFound('operation', operationId);
    return operation;
  }

  stats(): CallStats {
    let participants = 0;
    let mutedParticipants = 0;
    for (const call of this.calls.values()) {
      for (const participant of call.participants.values()) {
        participants++;
        if (participant.isMuted) mutedParticipants++;
      }
    }
    return { calls: this.calls.size, participants, mutedParticipants };
  }

  /** Resolves once every operation already submitted (mute, join, leave, …) has finished. */
  async drain(): Promise<void> {
    const queues = [...this.calls.values()].flatMap((call) => [...call.participants.values()].map((p) => p.speaker.queue));
    await Promise.all(queues.map((q) => q.idle()));
  }

  /** Ends every call (shutdown): each one's roster says so. */
  close(): void {
    this.closing = true;
    for (const call of [...this.calls.values()]) this.endCall(call);
  }

  /** Why a call is not there: unknown, or ended by the shutdown (the request was fine, the gateway is going away). */
  private callGone(callId: string): DomainError {
    return this.closing ? shuttingDown() : notFound('call', callId);
  }

  private async join(call: Call, request: JoinInput): Promise<Participant> {
    // The participant keeps its own bounded copy of the identity and media (see callInput.ts).
    const input = sanitizeJoinInput(request);
    const key = this.keyOf(input.identity, 'info.identity');
    const speaker = call.speakerFor(key);
    return speaker.queue.run(async () => {
      if (call.state !== 'established') throw this.callGone(call.id);
      if (call.mediaLost) throw callMediaLost(call.id);
      // New people count from the moment their join starts (joins of different people run at once).
      const newcomer = !call.participantOf(key);
      const limit = this.options.participantsPerCall ?? Infinity;
      if (newcomer && call.participants.size + call.joinsInProgress >= limit) {
        throw new DomainError('conflict', 'callFull', `call ${call.id} holds the most participants one call may (limits.participantsPerCall = ${limit})`);
      }
      if (newcomer) call.joinsInProgress++;
      try {
        return await this.attach(call, key, speaker, input);
      } finally {
        if (newcomer) call.joinsInProgress--;
      }
    });
  }

  /** The second half of a join, in the identity's queue: the media first, then the roster. */
  private async attach(call: Call, key: string, speaker: Speaker, input: JoinInput): Promise<Participant> {
    const callMedia = call.media;
    // Mute on entry (call setting): a person joining this call for the first time starts muted.
    // The identity's state changes only once the join has succeeded: a failed join changes nothing.
    const startMuted = speaker.muted || (call.muteOnEntry && !speaker.hasJoined);
    // The participant's SRTP key goes to the media and is not kept: only the suite is, so a
    // rebuild after a worker crash generates fresh keys (the participant reads them again).
    const storedSpec = input.media.kind === 'rtp' && input.media.srtp ? { ...input.media, srtp: { cryptoSuite: input.media.srtp.cryptoSuite } } : input.media;
    const participant = new Participant(randomUUID(), call.id, input.identity, speaker, storedSpec);
    // Fail closed: a muted identity's new producer is paused before its first packet (a WebRTC
    // participant produces later, through produceWebRtc, in this same queue).
    const media = await this.setUpEndpoint(call, callMedia, participant.id, input.media, { sendPaused: startMuted, receivePaused: speaker.deafened });
    if (call.state !== 'established') {
      media.close();
      throw this.callGone(call.id);
    }
    if (call.media !== callMedia || call.mediaLost) {
      // The worker died while we were joining: this media is gone already.
      media.close();
      throw callMediaLost(call.id);
    }
    // One leg per identity: a rejoin replaces the old leg (only now that the new one stands,
    // so a failed rejoin leaves the old leg as it was) and keeps the identity's mute state.
    const previous = call.participantOf(key);
    if (previous) this.detach(call, previous, 'replaced');
    speaker.muted = startMuted;
    speaker.hasJoined = true;
    participant.media = media;
    call.participants.set(participant.id, participant);
    // Before the join is answered: the identity has joined (mute on entry spent) and is muted or not.
    await this.persistSpeaker(call, speaker);
    this.emit('roster', call, { kind: 'joined', sequence: call.nextRosterSequence(), participant });
    return participant;
  }

  /**
   * A participant's new media. What fails underneath is told in domain terms, never as an
   * internal error: the call's media lost or replaced meanwhile (worker died) → callMediaLost; a
   * request the media cannot take → invalidMediaRequest; any other media failure → 503
   * mediaRequestFailed. The media layer leaves nothing behind when it fails.
   */
  private async addEndpoint(call: Call, callMedia: CallMedia, participantId: string, spec: MediaSpec, start: EndpointStart): Promise<EndpointMedia> {
    try {
      return spec.kind === 'rtp'
        ? await callMedia.addRtpEndpoint(participantId, spec, start)
        : await callMedia.addWebRtcEndpoint(participantId, { receivePaused: start.receivePaused });
    } catch (err) {
      throw this.mediaFailure(call, callMedia, err, "could not set up the participant's media");
    }
  }

  /**
   * addEndpoint, with the muted participant's paused producer confirmed in time (see
   * withPausedStart): an unconfirmed one fails the join (503 muteNotConfirmed, nothing set up,
   * the identity stays muted) instead of holding the identity's queue. What the worker builds
   * after the bound is closed as soon as it exists.
   */
  private async setUpEndpoint(call: Call, callMedia: CallMedia, participantId: string, spec: MediaSpec, start: EndpointStart): Promise<EndpointMedia> {
    // A WebRTC participant produces later (bounded in WebRtcSignaling.produce).
    if (spec.kind !== 'rtp') return this.addEndpoint(call, callMedia, participantId, spec, start);
    try {
      return await this.withPausedStart(
        start.sendPaused,
        (producerStart) => this.addEndpoint(call, callMedia, participantId, spec, { ...start, ...producerStart }),
        (late) => late.close(),
      );
    } catch (err) {
      if (err instanceof NotConfirmedInTime) throw muteNotConfirmed(err, 'the join of a muted participant', 'nothing was set up (what the worker builds later is closed)');
      throw err;
    }
  }

  /** A media error in domain terms (see addEndpoint): never an internal error. */
  private mediaFailure(call: Call, callMedia: CallMedia, err: unknown, what: string): DomainError {
    if (err instanceof DomainError) return err;
    if (call.state !== 'established') return this.callGone(call.id);
    if (call.media !== callMedia || call.mediaLost) return callMediaLost(call.id);
    if (err instanceof InvalidMediaRequest) return new DomainError('invalidRequest', 'invalidMediaRequest', err.message);
    if (err instanceof MediaCapacityExceeded) return mediaCapacityExceeded(err.message);
    return new DomainError('mediaUnavailable', 'mediaRequestFailed', `the media worker ${what}: ${(err as Error).message}`);
  }

  private async runMuteOperation(
    type: 'muteParticipant' | 'unmuteParticipant',
    call: Call,
    participantId: string,
    { clientContext, receivedAt, role }: { clientContext: string | undefined; receivedAt: bigint | undefined; role: ActorRole },
  ): Promise<Operation> {
    const participant = this.actionTarget(call.id, participantId);
    if (role !== 'self' && call.kind === 'peerToPeer') {
      throw new DomainError(
        'invalidRequest',
        'groupCallsOnly',
        `participant ${type === 'muteParticipant' ? 'mute' : 'unmute'} is only supported in group calls; call ${call.id} is peer-to-peer`,
      );
    }
    const mute = type === 'muteParticipant';
    return this.runParticipantOperation(type, call, participant, { clientContext, receivedAt }, async (participant, timeline) => {
      if (!mute) this.requireDurableState('unmute');
      if (!mute && role === 'self' && participant.speaker.locked) {
        throw new DomainError('forbidden', 'participantLocked', `participant ${participant.id} is locked by a moderator and cannot unmute itself until unlocked`);
      }
      const wasMuted = participant.speaker.muted;
      if (participant.media) {
        timeline.mediaRequestedAt = process.hrtime.bigint();
        if (mute) {
          // With a cluster, "muted" is written while the worker pauses, not after: restrictive,
          // so safe to write first (a pause that fails leaves the participant muted anyway).
          const written = this.persistSpeaker(call, participant.speaker, { ...storedSpeakerOf(participant.speaker), muted: true });
          await this.enforceMute(call, participant);
          if (written) await written;
        }
        else {
          const { packetsDroppedWhilePaused } = await this.confirmResume(participant, participant.media);
          if (packetsDroppedWhilePaused > 0) this.emit('mutedPacketsDropped', call, participant, packetsDroppedWhilePaused);
        }
        timeline.mediaConfirmedAt = process.hrtime.bigint();
      }
      // No media: nothing flows, so the state alone is the truth; a producer created later
      // starts paused if muted.
      participant.speaker.muted = mute;
      return wasMuted !== mute;
    });
  }

  /**
   * Runs `action` on a participant in its identity's queue, as a stored operation: the
   * operation completes (and the roster is told, if `action` says the state changed) only after
   * the action resolved; a failure is stored and thrown with the operation's id. `action` gets
   * the person's leg as it is when the operation runs (a rejoin may have replaced `participant`).
   */
  async runParticipantOperation(
    type: OperationType,
    call: Call,
    participant: Participant,
    { clientContext, receivedAt }: { clientContext?: string | undefined; receivedAt?: bigint | undefined },
    action: (target: Participant, timeline: OperationTimeline) => Promise<boolean>,
  ): Promise<Operation> {
    const started = receivedAt ?? process.hrtime.bigint();
    if (clientContext !== undefined) opaqueText(clientContext, 'clientContext', CLIENT_CONTEXT_MAX_LENGTH, 'invalidClientContext');
    const operation = newOperation(type, call.id, participant.id, clientContext);
    call.operations.add(operation);
    const timeline: OperationTimeline = { queuedAt: process.hrtime.bigint() };
    this.timelines.set(operation, timeline);
    const finish = (status: 'completed' | 'failed', failure?: DomainError) => {
      operation.status = status;
      operation.lastActionDateTime = new Date();
      operation.finishedSequence = call.nextOperationSequence();
      if (failure) operation.resultInfo = { code: resultCodeByKind[failure.kind], subcode: 0, message: failure.message };
      this.emit('operationFinished', operation, Number(process.hrtime.bigint() - started) / 1e9);
    };
    try {
      await participant.speaker.queue.run(async () => {
        timeline.startedAt = process.hrtime.bigint();
        const target = this.liveLeg(call, participant);
        try {
          if (await action(target, timeline)) this.emitUpdated(call, target);
        } finally {
          // Written before the answer, also when the action failed closed (muted, media torn down).
          const written = this.persistSpeaker(call, target.speaker);
          if (written) await written;
        }
      });
    } catch (err) {
      const failure =
        err instanceof DomainError
          ? new DomainError(err.kind, err.code, err.message, operation.id)
          : new DomainError('mediaUnavailable', 'mediaOperationFailed', `${type} failed: ${(err as Error).message}`, operation.id);
      finish('failed', failure);
      throw failure;
    }
    finish('completed');
    timeline.finishedAt = process.hrtime.bigint();
    return operation;
  }

  /**
   * Writes an identity's moderation state to the cluster's store (no store: nothing to do). Never
   * fails: what cannot be written now is written when the store is back (see CallStateStore).
   */
  persistSpeaker(call: Call, speaker: Speaker, state: StoredSpeaker = storedSpeakerOf(speaker)): Promise<void> | undefined {
    const store = this.options.stateStore;
    if (!store) return undefined;
    // What was written last for this identity is not written again (a mute writes its state
    // while the worker pauses, see runMuteOperation).
    const json = JSON.stringify(state);
    if (this.persisted.get(speaker) === json) return undefined;
    this.persisted.set(speaker, json);
    return store.saveSpeaker(call.id, speaker.identityKey, state);
  }

  /** A call setting changed (mute on entry): written like an identity's state. */
  async persistCallSettings(call: Call): Promise<void> {
    await this.options.stateStore?.updateCall(storedSettingsOf(call)).catch(() => undefined);
  }

  /**
   * Permissive changes (unmute, unlock, undeafen) and new calls need the cluster's store: while it
   * cannot be written they are refused (503 clusterStateUnavailable), so that no node can later
   * restore a state stricter than what was answered, or lose a call. Restrictive ones go on.
   */
  requireDurableState(what: string): void {
    const store = this.options.stateStore;
    if (store && !store.writable) throw stateUnavailable(what, 'the cluster store (Redis) cannot be reached');
  }

  /** Where an operation's time went (see OperationTimeline); undefined for call-wide ones. */
  timelineOf(operation: Operation): Readonly<OperationTimeline> | undefined {
    return this.timelines.get(operation);
  }


  /**
   * Pauses the participant's send stream. If the worker cannot confirm the pause, the media is
   * torn down so that nothing can be forwarded, the identity is recorded as muted, and the
   * operation fails (fail closed).
   */
  async enforceMute(call: Call, participant: Participant): Promise<void> {
    const media = participant.media as NonNullable<Participant['media']>;
    try {
      // Bounded (media.muteConfirmTimeoutMs): a frozen or saturated worker fails the mute closed
      // in time. The pause may still land later; by then the transport is closed (the worker
      // handles its requests in order: the close follows the pause), and the late confirmation
      // resolves a promise nobody awaits: no state change, no event.
      await this.confirmed(media.pauseSend(), 'the pause');
    } catch (err) {
      // Not confirmed in time: a stalled worker would forward what waits in its socket (sent
      // after this answer included) before it reads the teardown; it is killed instead, and
      // the calls on it are rebuilt (this participant's media paused, as a muted one's).
      const stopped = err instanceof NotConfirmedInTime && media.abandonUnconfirmedPause();
      media.close();
      participant.media = null;
      const wasMuted = participant.speaker.muted;
      participant.speaker.muted = true;
      if (!wasMuted) this.emitUpdated(call, participant);
      throw muteNotConfirmed(
        err,
        'the mute',
        stopped ? "the media worker was stopped so that nothing waiting in it is forwarded, and the call's media is being rebuilt" : undefined,
      );
    }
  }

  /**
   * Resumes the participant's send stream within the bound. Not confirmed in time: the unmute
   * fails (503 unmuteNotConfirmed) and the identity stays muted. The resume may still reach the
   * worker, so a pause is sent right behind it (the worker handles requests in order) and the
   * producer ends paused, as the state says; if that pause is not confirmed either, the media
   * is torn down. The late resume's confirmation changes nothing: the operation already failed.
   */
  private async confirmResume(participant: Participant, media: EndpointMedia): Promise<{ packetsDroppedWhilePaused: number }> {
    try {
      return await this.confirmed(media.resumeSend(), 'the resume');
    } catch (err) {
      if (!(err instanceof NotConfirmedInTime)) throw err;
      const repaused = media.pauseSend();
      // Handled now: it may fail before the queued check below gets to it.
      repaused.catch(() => undefined);
      // In the identity's queue, after this operation: only if nothing since changed the state or the media.
      void participant.speaker.queue
        .run(async () => {
          try {
            await this.confirmed(repaused, 'the pause after an unconfirmed resume');
          } catch {
            if (participant.media !== media || !participant.speaker.muted) return;
            media.close();
            participant.media = null;
          }
        })
        .catch(() => undefined);
      throw new DomainError(
        'mediaUnavailable',
        'unmuteNotConfirmed',
        `the media worker did not confirm the unmute within ${err.timeoutMs} ms (media.muteConfirmTimeoutMs); the participant stays muted and its stream is paused again`,
      );
    }
  }

  private appParticipantOf(call: Call): Participant {
    const participant = call.appParticipant();
    if (!participant) {
      throw new DomainError(
        'notFound',
        'participantNotFound',
        call.appIdentityKey
          ? `the application (${call.appIdentityKey}) has no participant in call ${call.id}`
          : `call ${call.id} was created without source.identity, so it has no application participant`,
      );
    }
    return participant;
  }

  /**
   * Inside the identity's queue: the person's leg now (`participant` itself, or the leg that
   * replaced it), or not found when the person has no leg in the call any more.
   */
  liveLeg(call: Call, participant: Participant): Participant {
    if (call.state !== 'established') throw this.callGone(call.id);
    if (call.participants.get(participant.id) === participant) return participant;
    const current = call.participantOf(participant.speaker.identityKey);
    if (!current) throw this.closing ? shuttingDown() : notFound('participant', participant.id);
    return current;
  }

  private keyOf(identity: IdentitySet, where: string): string {
    try {
      return identityKey(identity);
    } catch (err) {
      throw new DomainError('invalidRequest', 'invalidIdentity', `${where}: ${(err as Error).message}`);
    }
  }

  private detach(call: Call, participant: Participant, reason: LeaveReason): void {
    participant.media?.close();
    participant.media = null;
    call.participants.delete(participant.id);
    if (reason !== 'callEnded') call.recordFormerLeg(participant.id, participant.speaker.identityKey, reason === 'replaced');
    this.emit('roster', call, { kind: 'left', sequence: call.nextRosterSequence(), participant, reason });
  }

  /**
   * Another node hosts this call now (this one was cut off from the cluster's Redis for longer
   * than a node lives without a heartbeat): it ends here, its stored state stays for that node.
   */
  releaseCall(callId: string): void {
    const call = this.calls.get(callId);
    if (call) this.endCall(call, { keepState: true });
  }

  private endCall(call: Call, { keepState = false } = {}): void {
    if (call.state === 'terminated') return;
    call.state = 'terminated';
    this.calls.delete(call.id);
    // A shutting-down node leaves its calls' state where it is: the call is placed on another
    // node (or this one after its restart) when next used, everyone muted as before.
    // The store keeps trying if Redis fails now (an ended call must not come back on takeover).
    if (!this.closing && !keepState) this.options.stateStore?.endCall(call.id).catch(() => undefined);
    for (const participant of [...call.participants.values()]) this.detach(call, participant, 'callEnded');
    call.media.close();
    this.emit('roster', call, { kind: 'callEnded', sequence: call.nextRosterSequence() });
  }

  /** Tells every roster that a participant's state changed. */
  emitUpdated(call: Call, participant: Participant): void {
    this.emit('roster', call, { kind: 'updated', sequence: call.nextRosterSequence(), participant });
  }

  private onMediaLost(call: Call, lost: CallMedia, reason: string): void {
    if (call.state !== 'established' || call.media !== lost) return;
    call.mediaLost = true;
    // Nothing can flow without a router; mute, lock and deafen state stay as they are.
    for (const participant of call.participants.values()) participant.media = null;
    this.emit('callMediaLost', call, reason);
    void this.recover(call, lost, reason);
  }

  /**
   * Fail-closed recovery: a new router (on a live worker), then each participant's media rebuilt
   * in its own queue, so a muted participant's new producer starts paused like any other.
   * Plain-RTP participants get new transports (a `reconnect` roster change says so); WebRTC
   * participants are told to join again.
   */
  private async recover(call: Call, lost: CallMedia, reason: string): Promise<void> {
    const delays = this.options.recoveryRetryDelaysMs ?? [100, 250, 500, 1000, 2000];
    let media: CallMedia | undefined;
    for (let attempt = 0; !media && call.state === 'established' && call.media === lost; attempt++) {
      try {
        media = await this.mediaPlane.openCall(call.id, { forwarding: call.forwarding });
      } catch {
        await new Promise((r) => setTimeout(r, delays[Math.min(attempt, delays.length - 1)]).unref());
      }
    }
    if (!media) return;
    if (call.state !== 'established' || call.media !== lost) {
      media.close();
      return;
    }
    const fresh = media;
    call.media = fresh;
    fresh.onLost((why) => this.onMediaLost(call, fresh, why));
    this.speakerSignals.attach(call, fresh);
    call.mediaLost = false;
    for (const participant of [...call.participants.values()]) {
      await participant.speaker.queue
        .run(async () => {
          if (call.participants.get(participant.id) !== participant || call.media !== fresh || participant.media) return;
          if (participant.mediaSpec.kind === 'webrtc') {
            this.emit('reconnectRequired', call, participant, reason);
            this.detach(call, participant, 'mediaLost');
            return;
          }
          // The stored spec has no SRTP key (see join): the new endpoint gets fresh keys for both directions.
          // Bounded like a join: a muted participant's paused producer is confirmed in time or it stays without media.
          const spec = participant.mediaSpec;
          participant.media = await this.withPausedStart(
            participant.speaker.muted,
            (start) => fresh.addRtpEndpoint(participant.id, spec, { ...start, receivePaused: participant.speaker.deafened }),
            (late) => late.close(),
          );
          this.emit('roster', call, { kind: 'reconnect', sequence: call.nextRosterSequence(), participant });
        })
        .catch(() => undefined); // that participant stays without media; the others go on
    }
    this.emit('callMediaRecovered', call);
  }
}

/** What a node keeps of a call in the cluster's store. */
function storedSettingsOf(call: Call): StoredCallSettings {
  return {
    id: call.id,
    kind: call.kind,
    createdDateTime: call.createdDateTime.toISOString(),
    ...(call.subject !== undefined ? { subject: call.subject } : {}),
    ...(call.callbackUri !== undefined ? { callbackUri: call.callbackUri } : {}),
    ...(call.tenantId !== undefined ? { tenantId: call.tenantId } : {}),
    ...(call.source !== undefined ? { source: call.source } : {}),
    ...(call.appIdentityKey !== undefined ? { appIdentityKey: call.appIdentityKey } : {}),
    targets: call.targets,
    muteOnEntry: call.muteOnEntry,
    forwarding: call.forwarding,
  };
}

function storedSpeakerOf({ muted, locked, deafened, handRaised, hasJoined }: Speaker): StoredSpeaker {
  return { muted, locked, deafened, handRaised, hasJoined };
}

function stateUnavailable(what: string, why: string): DomainError {
  return new DomainError('mediaUnavailable', 'clusterStateUnavailable', `cannot ${what} now: ${why}; mutes are still enforced, try again shortly`);
}

/**
 * The fail-closed answer: the worker did not confirm a pause (in time, or at all); the
 * participant's media is torn down (or was never set up) and the participant stays muted.
 */
function muteNotConfirmed(err: unknown, what: string, outcome?: string): DomainError {
  const late = err instanceof NotConfirmedInTime;
  const why = late ? `within ${err.timeoutMs} ms (media.muteConfirmTimeoutMs)` : `(${(err as Error).message})`;
  outcome ??= "the participant's media was torn down so nothing is forwarded";
  return new DomainError('mediaUnavailable', 'muteNotConfirmed', `the media worker did not confirm ${what} ${why}; ${outcome}, and the participant stays muted`);
}

function storedCallOf(call: Call): StoredCall {
  return {
    settings: storedSettingsOf(call),
    speakers: new Map([...call.allSpeakers()].map((speaker) => [speaker.identityKey, storedSpeakerOf(speaker)])),
    rosterSequence: call.rosterSequence,
    operations: [...call.operations.values()].filter((operation) => operation.status !== 'running'),
  };
}
