/** A request mutegate refused (HTTP or WebSocket), with the Graph error's fields. */
export class MutegateError extends Error {
  override name = 'MutegateError';

  constructor(
    /** HTTP status (also on WebSocket errors): 400, 403, 404, 409, 503, … */
    readonly status: number,
    /** Graph's code (`badRequest`, `forbidden`, `serviceUnavailable`, …). */
    readonly code: string,
    /** mutegate's reason (`muteNotConfirmed`, `participantLocked`, `nodeUnreachable`, …). */
    readonly innerCode: string,
    message: string,
    /** HTTP: the reply's `Location` (a mute that failed closed names its failed operation). */
    readonly location: string | null = null,
  ) {
    super(message);
  }
}

/** No answer in time (the request may still have been carried out: read the state before retrying). */
export class MutegateTimeout extends Error {
  override name = 'MutegateTimeout';
}
