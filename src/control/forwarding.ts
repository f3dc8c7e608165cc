import { DomainError } from './errors.js';

/**
 * Who hears whom in a call (see README, "Who is heard in a large call"):
 * - `all`: every listener receives every unmuted participant;
 * - `speakers`: only the `maxSpeakers` loudest sources (RFC 6464 audio level at or below
 *   -`silenceDbov` dBov counts as silent), with hysteresis; sources whose packets carry no audio
 *   level cannot be ranked and are always forwarded;
 * - `auto`: `all` until more than `speakersFrom` participants send audio, then `speakers`.
 * Selection only ever decides between forwarding and not forwarding an unmuted source: a muted
 * participant's producer is paused in the worker whatever the selection says.
 */
export type CallForwarding =
  | { mode: 'all' }
  | { mode: 'speakers'; maxSpeakers: number; silenceDbov: number }
  | { mode: 'auto'; speakersFrom: number; maxSpeakers: number; silenceDbov: number };

export const FORWARDING_LIMITS = {
  maxSpeakers: { min: 1, max: 16 },
  silenceDbov: { min: 0, max: 127 },
  speakersFrom: { min: 1, max: 100_000 },
} as const;

/** Defaults of the optional fields; config `media.forwarding` gives the call default as a whole. */
export const FORWARDING_DEFAULTS = { maxSpeakers: 3, silenceDbov: 50, speakersFrom: 20 } as const;

const CODE = 'invalidForwarding';

/**
 * A call's `forwarding` as given at creation, checked field by field (the HTTP schema refuses the
 * same earlier); absent fields take `defaults` (the configured default's values where it has them).
 */
export function sanitizeForwarding(value: unknown, defaults: Partial<Record<keyof typeof FORWARDING_DEFAULTS, number>> = {}): CallForwarding {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DomainError('invalidRequest', CODE, 'forwarding must be an object');
  const body = value as Record<string, unknown>;
  const field = (name: keyof typeof FORWARDING_LIMITS): number => {
    const raw = body[name] ?? defaults[name] ?? FORWARDING_DEFAULTS[name];
    const { min, max } = FORWARDING_LIMITS[name];
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
      throw new DomainError('invalidRequest', CODE, `forwarding.${name} must be an integer from ${min} to ${max}`);
    }
    return raw;
  };
  switch (body.mode) {
    case 'all':
      return { mode: 'all' };
    case 'speakers':
      return { mode: 'speakers', maxSpeakers: field('maxSpeakers'), silenceDbov: field('silenceDbov') };
    case 'auto':
      return { mode: 'auto', speakersFrom: field('speakersFrom'), maxSpeakers: field('maxSpeakers'), silenceDbov: field('silenceDbov') };
    default:
      throw new DomainError('invalidRequest', CODE, 'forwarding.mode must be "all", "speakers" or "auto"');
  }
}
