/**
 * What went wrong, in domain terms. Each API adapter maps `kind` to its own error shape and
 * status (Graph: 400/403/404/409/429/503), so the domain never speaks HTTP.
 */
export type DomainErrorKind = 'invalidRequest' | 'forbidden' | 'notFound' | 'conflict' | 'rateLimited' | 'mediaUnavailable';

export class DomainError extends Error {
  override name = 'DomainError';

  constructor(
    readonly kind: DomainErrorKind,
    /** Stable machine-readable code, e.g. "participantNotFound". */
    readonly code: string,
    message: string,
    /** Operation recorded for this request, when one was (failed operations are kept too). */
    readonly operationId?: string,
  ) {
    super(message);
  }
}

export const callMediaLost = (callId: string): DomainError =>
  new DomainError(
    'mediaUnavailable',
    'callMediaLost',
    `the media of call ${callId} was lost when its media worker died; it is being rebuilt, try again shortly`,
  );

export const notFound = (what: 'call' | 'participant' | 'operation', id: string): DomainError =>
  new DomainError('notFound', `${what}NotFound`, `${what} ${id} was not found`);

/** The gateway is shutting down: what the request needed is going away with it (503, not 404). */
export const shuttingDown = (): DomainError =>
  new DomainError('mediaUnavailable', 'shuttingDown', 'the gateway is shutting down; try again on another instance or after it restarted');

/**
 * Admission control: no media worker has room for the join (media.workerBudget). Answered at once,
 * before any worker is asked, so a full gateway says so instead of making the caller wait.
 */
export const mediaCapacityExceeded = (detail: string): DomainError =>
  new DomainError('mediaUnavailable', 'mediaCapacityExceeded', `the media servers are at capacity: ${detail}; try again later`);
