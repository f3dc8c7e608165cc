import type { Call } from './Call.js';
import { DomainError } from './errors.js';
import type { Participant } from './Participant.js';
import type { Principal } from './Principal.js';

export interface PolicyOptions {
  /** Application tokens may unmute other participants (off by default: nobody is unmuted behind their back). */
  allowAppRemoteUnmute: boolean;
}

/** How the acting principal relates to the participant an operation targets. */
export type ActorRole = 'self' | 'moderator' | 'app';

const forbidden = (code: string, message: string) => new DomainError('forbidden', code, message);

/**
 * Who may do what. Adapters ask before calling the domain; rules that depend on state that can
 * change under a request (a lock) are checked again inside the participant's queue.
 */
export class Policy {
  constructor(private readonly options: PolicyOptions) {}

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

  /** Whether the principal is this participant (a participant token, or any token whose subject is its user identity). */
  isSelf(principal: Principal, participant: Participant): boolean {
    if (principal.kind === 'participant') {
      if (principal.callId !== participant.callId) return false;
      if (principal.participantId) return principal.participantId === participant.id;
    }
    return participant.identity.user?.id === principal.subject;
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
    return principal.calls === 'all' || principal.calls.has(call.id);
  }
}
