import { DomainError } from '../control/errors.js';
import type { RtpMediaSpec } from '../control/Participant.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';

/**
 * The rules for a plain-RTP leg, whoever asks for it:
 * - without `receive` the gateway latches onto the first packet's source, so that packet must
 *   authenticate: SRTP is required;
 * - unencrypted RTP and explicit `receive` addresses are for trusted roles only (the backend);
 * - a `receive` address must pass the receive-address policy (no reflection anywhere).
 */
export function authorizeRtpMedia(ctx: CommandContext, principal: Principal, media: RtpMediaSpec): RtpMediaSpec {
  if (!media.srtp) {
    if (!media.receive) {
      throw new DomainError(
        'invalidRequest',
        'srtpRequiredForLatching',
        'plain RTP without "receive" latches onto the first packet received, so it must be SRTP: add "srtp": {"cryptoSuite": …} (or, for trusted backends, give "receive")',
      );
    }
    ctx.policy.requireTrustedRtp(principal, 'unencrypted RTP');
  }
  if (media.receive) {
    ctx.policy.requireTrustedRtp(principal, 'a "receive" address');
    ctx.receiveAddresses.check(media.receive);
  }
  return media;
}
