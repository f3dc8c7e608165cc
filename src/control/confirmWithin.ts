/**
 * The bound on a media confirmation (config `media.muteConfirmTimeoutMs`). Everything the domain
 * promises about a mute rests on the worker confirming a pause; a worker that is frozen,
 * saturated or stuck behind its own output may confirm seconds later or never. Past the bound
 * the domain stops waiting and fails closed (see CallService.enforceMute), so a moderator gets
 * an answer in bounded time and the identity's queue moves on.
 */

/**
 * Default of `media.muteConfirmTimeoutMs`: a hundred times the mute acknowledgement p99 of a
 * healthy worker (≤ 10 ms), above a GC pause or a scheduler hiccup on a loaded machine, and short
 * enough that a moderator gets an answer before clicking again. See README "A mute under load".
 */
export const DEFAULT_MUTE_CONFIRM_TIMEOUT_MS = 1000;

/** The media worker did not confirm within the bound. The request may still land later. */
export class NotConfirmedInTime extends Error {
  override name = 'NotConfirmedInTime';

  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`the media worker did not confirm ${what} within ${timeoutMs} ms`);
  }
}

/**
 * `work` if it settles within `timeoutMs`, else a NotConfirmedInTime rejection. A request sent
 * to the worker cannot be taken back, so `work` goes on: if it succeeds after all, `late` gets
 * its value (to undo what nobody waits for any more, e.g. close an endpoint a failed join
 * created); a late failure is dropped, since the caller has already failed.
 */
export function confirmWithin<T>(work: Promise<T>, timeoutMs: number, what: string, late?: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(new NotConfirmedInTime(what, timeoutMs));
    }, timeoutMs);
    work.then(
      (value) => {
        if (!timedOut) {
          clearTimeout(timer);
          resolve(value);
        } else if (late) {
          // Nobody awaits this any more: a throwing undo must not become an unhandled rejection.
          try {
            late(value);
          } catch {
            // the undo is best effort; what it could not close the worker closes with the call
          }
        }
      },
      (err: unknown) => {
        if (timedOut) return;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
