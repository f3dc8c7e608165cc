import type { Call } from './Call.js';
import { DomainError } from './errors.js';
import type { Participant } from './Participant.js';
import type { Principal } from './Principal.js';

export interface PolicyOptions {
  /** Application tokens may unmute other participants (off by default: nobody is unmuted behind their back). */
  allowAppRemoteUnmute: boolean;
  /** Roles that may use unencrypted plain RTP and name `receive` addresses (config media.trustedRtpRoles). */
  trustedRtpRoles: readonly ('app' | 'moderator')[];
}

/**
 * What deciding "is this principal that participant?" needs: the participant's id, call and
 * identity (another node knows a participant of a call it does not host by these alone).
 */
export type ParticipantRef = Pick<Participant, 'id' | 'callId' | 'identity'>;

/** How the acting principal relates to the participant an operation targets. */
export type ActorRole = 'self' | 'moderator' | 'app';

const forbidden = (code: string, message: string) => new DomainError('forbidden', code, message);

/**
 * Who may do what. Adapters ask before calling the domain; rules that depend on state that can
 * change under a request (a lock) are checked again inside the participant's queue.
 */
export class Policy {
  constructor(private readonly options: PolicyOptions) {}

  /**
   * The call id is inside the token's scope: checked before the call is looked up, so that a
   * token for one call cannot tell which other calls (or participants) exist.
   */
  requireCallScope(principal: Principal, callId: string): void {
    if (principal.kind === 'app') return;
    if (principal.kind === 'moderator' && this.moderatesCall(principal, callId)) return;
    if (principal.kind === 'participant' && principal.callId === callId) return;
    throw forbidden('callNotAllowed', `this token gives no access to call ${callId}`);
  }

  /** Reading a call, its roster and operations, subscribing to it. */
  requireCallAccess(principal: Principal, call: Call): void {
    if (principal.kind === 'app') return;
    if (principal.kind === 'moderator' && this.moderates(principal, call)) return;
    if (principal.kind === 'participant' && principal.callId === call.id) return;
    throw forbidden('callNotAllowed', `this token gives no access to call ${call.id}`);
  }

  /** Creating calls: applications only (as in Graph). */
  requireApp(principal: Principal, what: string): void {
    if (principal.kind !== 'app') throw forbidden('appRoleRequired', `${what} needs an application token`);
  }

  /** Moderating a call: adding or removing others, muting anyone, locking, deafening, mute all. */
  requireModerator(principal: Principal, call: Call, what: string): 'app' | 'moderator' {
    if (principal.kind === 'app') return 'app';
    if (principal.kind === 'moderator' && this.moderates(principal, call)) return 'moderator';
    throw forbidden('moderatorRequired', `${what} needs a moderator or application token for call ${call.id}`);
  }

  /**
   * Whether the principal is this participant. A participant token is its own participant (by id,
   * or by user identity = `sub`) in its one call. A moderator token's `sub` is the moderator's own
   * user identity, but only in the calls it moderates (the call scope holds). An application
   * token is nobody: its `sub` names the backend, not a person.
   */
  isSelf(principal: Principal, participant: ParticipantRef): boolean {
    if (!principal.subject && principal.kind !== 'participant') return false;
    switch (principal.kind) {
      case 'app':
        return false;
      case 'moderator':
        return this.moderatesCall(principal, participant.callId) && participant.identity.user?.id === principal.subject;
      case 'participant':
        if (principal.callId !== participant.callId) return false;
        if (principal.participantId) return principal.participantId === participant.id;
        return principal.subject !== '' && participant.identity.user?.id === principal.subject;
    }
  }

  /**
   * The user identity the principal acts as in `callId` ("me" of the agent APIs): a participant
   * token's or a moderator token's `sub`, inside its call scope. Application tokens name no agent.
   */
  agentIdentity(principal: Principal, callId: string): string {
    if (principal.kind === 'app') {
      throw forbidden('agentTokenRequired', 'an application token names no agent; use a participant or moderator token whose "sub" is the agent');
    }
    if (!principal.subject) throw forbidden('subjectRequired', 'the token names no agent (no "sub" claim)');
    const inScope = principal.kind === 'participant' ? principal.callId === callId : this.moderatesCall(principal, callId);
    if (!inScope) throw forbidden('callNotAllowed', `this token gives no access to call ${callId}`);
    return principal.subject;
  }

  /** Whether the principal can act as an agent at all (a person with a subject): the Genesys and CometD precondition. */
  requireAgent(principal: Principal): string {
    if (principal.kind === 'app') {
      throw forbidden('agentTokenRequired', 'an application token names no agent; use a participant or moderator token whose "sub" is the agent');
    }
    if (!principal.subject) throw forbidden('subjectRequired', 'the token names no agent (no "sub" claim)');
    return principal.subject;
  }

  /** The application's own call settings (callbackUri, tenantId) are for the application only. */
  mayViewBackendSettings(principal: Principal): boolean {
    return principal.kind === 'app';
  }

  /** Whether a call is inside the principal's call scope (reading it, hearing its events). */
  mayAccess(principal: Principal, call: Call): boolean {
    try {
      this.requireCallAccess(principal, call);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Plain-RTP legs that are not proven by SRTP latching: unencrypted RTP, or media sent to an
   * address given in the request. Only trusted roles (by default the application: the backend or
   * SIP gateway) may ask for them; a participant token never aims media at an address it did not
   * prove.
   */
  requireTrustedRtp(principal: Principal, what: string): void {
    if (principal.kind !== 'participant' && this.options.trustedRtpRoles.includes(principal.kind)) return;
    throw forbidden(
      'untrustedRtp',
      `${what} is allowed for ${this.options.trustedRtpRoles.join(' and ') || 'no'} tokens only (media.trustedRtpRoles); join with "srtp" and no "receive" (latching on the first authenticated packet)`,
    );
  }

  /**
   * Who may join `identity` to the call: a participant token only itself (its user = `sub`), a
   * moderator anyone in its calls, an application anyone.
   */
  requireJoin(principal: Principal, call: Call, identityUserId: string | undefined): ActorRole {
    if (principal.kind === 'participant') {
      this.requireCallAccess(principal, call);
      if (!principal.subject || identityUserId !== principal.subject) {
        throw forbidden('notYourIdentity', `this token joins as user "${principal.subject}" only`);
      }
      return 'self';
    }
    return this.requireModerator(principal, call, 'adding a participant');
  }

  /**
   * Which participants' media details (transport addresses, ports, SRTP keys) the principal may
   * see: its own, and the application's (the backend that created the legs). Moderators and other
   * participants see the roster only.
   */
  mayViewMedia(principal: Principal, participant: Participant): boolean {
    return principal.kind === 'app' || this.isSelf(principal, participant);
  }

  /** The role in which the principal would act on `target`, or a 403. */
  roleFor(principal: Principal, call: Call, target: Participant, what: string): ActorRole {
    this.requireCallAccess(principal, call);
    if (principal.kind === 'app') return 'app';
    if (principal.kind === 'moderator' && this.moderates(principal, call)) return 'moderator';
    if (this.isSelf(principal, target)) return 'self';
    throw forbidden('notYourParticipant', `a participant token can only ${what} its own participant`);
  }

  /**
   * Unmuting someone else is refused (Graph has no remote unmute; LiveKit gates it): the caller
   * asks them with requestUnmute instead. An application may do it when configured to.
   */
  requireUnmute(principal: Principal, call: Call, target: Participant): ActorRole {
    this.requireCallAccess(principal, call);
    if (this.isSelf(principal, target)) return 'self';
    if (principal.kind === 'app' && this.options.allowAppRemoteUnmute) return 'app';
    throw forbidden(
      'remoteUnmuteNotAllowed',
      `only participant ${target.id} can unmute itself; ask it with POST …/participants/${target.id}/requestUnmute`,
    );
  }

  private moderates(principal: Principal & { kind: 'moderator' }, call: Call): boolean {
    return this.moderatesCall(principal, call.id);
  }

  private moderatesCall(principal: Principal & { kind: 'moderator' }, callId: string): boolean {
    return principal.calls === 'all' || principal.calls.has(callId);
  }
}
