import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/loadConfig.js';
import { sanitizeForwarding } from '../../src/control/forwarding.js';

/** media.forwarding: the default of calls created without `forwarding`. */
describe('forwarding configuration', () => {
  it('defaults to auto: all until more than 20 senders, then the 3 loudest above -50 dBov', () => {
    const { forwarding } = loadConfig({}).media;
    expect(forwarding).toEqual({ mode: 'auto', maxSpeakers: 3, silenceDbov: 50, speakersFrom: 20 });
    expect(sanitizeForwarding(forwarding)).toEqual({ mode: 'auto', speakersFrom: 20, maxSpeakers: 3, silenceDbov: 50 });
  });

  it('is set key by key from the environment and refuses what is out of range', () => {
    const { forwarding } = loadConfig({ MUTEGATE_MEDIA_FORWARDING_MODE: 'speakers', MUTEGATE_MEDIA_FORWARDING_MAX_SPEAKERS: '5' }).media;
    expect(sanitizeForwarding(forwarding)).toEqual({ mode: 'speakers', maxSpeakers: 5, silenceDbov: 50 });
    for (const [key, value] of [
      ['MUTEGATE_MEDIA_FORWARDING_MODE', 'loudest'],
      ['MUTEGATE_MEDIA_FORWARDING_MAX_SPEAKERS', '17'],
      ['MUTEGATE_MEDIA_FORWARDING_SILENCE_DBOV', '128'],
      ['MUTEGATE_MEDIA_FORWARDING_SPEAKERS_FROM', '0'],
    ] as const) {
      expect(() => loadConfig({ [key]: value }), key).toThrow(ConfigError);
      expect(() => loadConfig({ [key]: value }), key).toThrow(/media\.forwarding/);
    }
  });
});
