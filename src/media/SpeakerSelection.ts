/**
 * Which sources are "the loudest N", with hysteresis so that the selection does not flap between
 * speakers of similar level (each change pauses or resumes one consumer per listener). Pure:
 * fed with the level reports of an AudioLevelObserver, it answers what changed.
 *
 * Rules, per report (sources at or below the silence level are not in it):
 * - a selected source that is in the report is "loud now" (its level is remembered);
 * - a source not selected enters if a slot is free;
 * - otherwise it replaces a selected source that has held its slot for at least `minHoldMs` and
 *   either has been silent for `releaseAfterSilenceMs`, or is now at least `overtakeMarginDb`
 *   quieter than the newcomer (the one silent longest goes first, then the quietest);
 * - silence alone never empties a slot: the last speakers stay selected until someone replaces
 *   them, so a pause for breath does not cut the start of their next sentence.
 */
export interface SelectionTuning {
  maxSpeakers: number;
  minHoldMs: number;
  releaseAfterSilenceMs: number;
  overtakeMarginDb: number;
}

export const DEFAULT_TUNING: Omit<SelectionTuning, 'maxSpeakers'> = {
  minHoldMs: 1500,
  releaseAfterSilenceMs: 800,
  overtakeMarginDb: 6,
};

/** One entry of a level report: a source and its average level over the report's interval, in dBov (≤ 0). */
export interface SourceLevel {
  source: string;
  volume: number;
}

interface Slot {
  since: number;
  lastLoudAt: number;
  /** Level in the latest report it was in. */
  volume: number;
}

export class SpeakerSelection {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly tuning: SelectionTuning) {}

  has(source: string): boolean {
    return this.slots.has(source);
  }

  get selected(): string[] {
    return [...this.slots.keys()];
  }

  /** Applies one level report (loudest first); answers the sources that entered and left. */
  update(now: number, levels: readonly SourceLevel[]): { added: string[]; removed: string[] } {
    const added: string[] = [];
    const removed: string[] = [];
    const loud = new Map(levels.map((l) => [l.source, l.volume]));
    for (const [source, slot] of this.slots) {
      const volume = loud.get(source);
      // A report without it (a breath) keeps its last level: only silence for
      // releaseAfterSilenceMs, or a clearly louder newcomer, makes room.
      if (volume === undefined) continue;
      slot.volume = volume;
      slot.lastLoudAt = now;
    }
    for (const { source, volume } of levels) {
      if (this.slots.has(source)) continue;
      if (this.slots.size >= this.tuning.maxSpeakers) {
        const victim = this.releasable(now, volume);
        if (victim === undefined) break; // nobody may leave for this one, nor for anyone quieter
        this.slots.delete(victim);
        // Replaced within one report: it left and something else entered.
        if (added.includes(victim)) added.splice(added.indexOf(victim), 1);
        else removed.push(victim);
      }
      this.slots.set(source, { since: now, lastLoudAt: now, volume });
      added.push(source);
    }
    return { added, removed };
  }

  /** Frees a source's slot at once (muted, gone); true if it had one. */
  remove(source: string): boolean {
    return this.slots.delete(source);
  }

  private releasable(now: number, challengerVolume: number): string | undefined {
    let best: { source: string; slot: Slot } | undefined;
    for (const [source, slot] of this.slots) {
      if (now - slot.since < this.tuning.minHoldMs) continue;
      const silentLongEnough = now - slot.lastLoudAt >= this.tuning.releaseAfterSilenceMs;
      const overtaken = challengerVolume >= slot.volume + this.tuning.overtakeMarginDb;
      if (!silentLongEnough && !overtaken) continue;
      if (!best || slot.lastLoudAt < best.slot.lastLoudAt || (slot.lastLoudAt === best.slot.lastLoudAt && slot.volume < best.slot.volume)) {
        best = { source, slot };
      }
    }
    return best?.source;
  }
}
