/**
 * A token bucket: `has` refills it (at `perSecond`, up to `burst`, from `now`, a performance.now()
 * time) and says whether a token is there; `take` takes it. Asking and taking are apart so that a
 * request held to two buckets takes from neither when one of them refuses it.
 */
export class TokenBucket {
  private tokens = Number.NaN;
  private refilledAt = 0;

  /** When it was last asked (performance.now() time): an idle bucket is full, and may be forgotten. */
  get lastAskedAt(): number {
    return this.refilledAt;
  }

  has(now: number, perSecond: number, burst: number): boolean {
    if (perSecond === Infinity) return true;
    this.tokens = Number.isNaN(this.tokens) ? burst : Math.min(burst, this.tokens + ((now - this.refilledAt) / 1000) * perSecond);
    this.refilledAt = now;
    return this.tokens >= 1;
  }

  take(): void {
    if (!Number.isNaN(this.tokens)) this.tokens -= 1;
  }
}
