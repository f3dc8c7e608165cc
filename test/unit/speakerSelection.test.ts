import { describe, expect, it } from 'vitest';
import { DEFAULT_TUNING, SpeakerSelection } from '../../src/media/SpeakerSelection.js';

/** The hysteresis of speaker-aware forwarding, report by report (no worker). */
describe('SpeakerSelection', () => {
  const tuning = { maxSpeakers: 2, ...DEFAULT_TUNING };
  const { minHoldMs, releaseAfterSilenceMs, overtakeMarginDb } = DEFAULT_TUNING;

  it('fills free slots loudest first and keeps the rest out', () => {
    const s = new SpeakerSelection(tuning);
    expect(s.update(0, [{ source: 'a', volume: -10 }, { source: 'b', volume: -20 }, { source: 'c', volume: -30 }])).toEqual({ added: ['a', 'b'], removed: [] });
    expect(s.selected.sort()).toEqual(['a', 'b']);
    expect(s.has('c')).toBe(false);
  });

  it('does not flap: a slightly louder newcomer does not replace a speaker who is still talking', () => {
    const s = new SpeakerSelection({ ...tuning, maxSpeakers: 1 });
    s.update(0, [{ source: 'a', volume: -20 }]);
    for (let t = 300; t < 10_000; t += 300) {
      // b is louder by less than the margin, every other report
      const levels = t % 600 === 0 ? [{ source: 'b', volume: -20 + overtakeMarginDb - 1 }, { source: 'a', volume: -20 }] : [{ source: 'a', volume: -20 }, { source: 'b', volume: -22 }];
      expect(s.update(t, levels)).toEqual({ added: [], removed: [] });
    }
    expect(s.selected).toEqual(['a']);
  });

  it('holds a new speaker for minHoldMs even when it falls silent at once', () => {
    const s = new SpeakerSelection({ ...tuning, maxSpeakers: 1 });
    s.update(0, [{ source: 'a', volume: -10 }]);
    expect(s.update(minHoldMs - 1, [{ source: 'b', volume: -5 }])).toEqual({ added: [], removed: [] });
    expect(s.update(minHoldMs, [{ source: 'b', volume: -5 }])).toEqual({ added: ['b'], removed: ['a'] });
  });

  it('replaces the speaker silent longest once it has been silent for releaseAfterSilenceMs', () => {
    const s = new SpeakerSelection(tuning);
    s.update(0, [{ source: 'a', volume: -10 }, { source: 'b', volume: -10 }]);
    s.update(2000, [{ source: 'b', volume: -10 }]); // a silent from here on (last loud at 0)
    s.update(2100, [{ source: 'a', volume: -10 }, { source: 'b', volume: -10 }]);
    s.update(2200, [{ source: 'b', volume: -10 }]);
    // c is quieter than both; only silence can make room.
    expect(s.update(2100 + releaseAfterSilenceMs - 1, [{ source: 'b', volume: -10 }, { source: 'c', volume: -40 }])).toEqual({ added: [], removed: [] });
    expect(s.update(2100 + releaseAfterSilenceMs, [{ source: 'b', volume: -10 }, { source: 'c', volume: -40 }])).toEqual({ added: ['c'], removed: ['a'] });
  });

  it('silence alone never empties a slot, and remove() frees one at once (mute)', () => {
    const s = new SpeakerSelection(tuning);
    s.update(0, [{ source: 'a', volume: -10 }]);
    expect(s.update(60_000, [])).toEqual({ added: [], removed: [] });
    expect(s.selected).toEqual(['a']);
    expect(s.remove('a')).toBe(true);
    expect(s.remove('a')).toBe(false);
    expect(s.selected).toEqual([]);
  });
});
