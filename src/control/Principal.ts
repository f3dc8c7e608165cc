/**
 * Who is asking, as the domain sees it (the adapters derive it from a verified token).
 * - app: Graph application permissions; may act on every call.
 * - moderator: may moderate the calls it names.
 * - participant: bound to one call, and to one participant (by id) or one identity (user:<subject>).
 */
export type Principal =
  | { kind: 'app'; subject: string }
  | { kind: 'moderator'; subject: string; calls: ReadonlySet<string> | 'all' }
  | { kind: 'participant'; subject: string; callId: string; participantId?: string };

/** The principal of every request when authentication is switched off (local experiments only). */
export const UNAUTHENTICATED_APP: Principal = { kind: 'app', subject: 'auth-disabled' };
