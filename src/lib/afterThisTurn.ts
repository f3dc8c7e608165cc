/**
 * Work that must happen but does not decide an answer (counters, histograms): run after the
 * current event-loop turn, in submission order, all in one setImmediate. A reply written in this
 * turn (a mute's 200, once the media worker confirmed) leaves first; anything that arrives later
 * (a /metrics scrape) is read in a later turn, after the work is done, so no one can observe it
 * missing. A failing job does not stop the others; its error goes to `onError`.
 */
export class AfterThisTurn {
  private jobs: (() => void)[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly onError: (error: unknown) => void) {}

  run(job: () => void): void {
    this.jobs.push(job);
    this.scheduled ??= setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = undefined;
    const jobs = this.jobs;
    this.jobs = [];
    for (const job of jobs) {
      try {
        job();
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
