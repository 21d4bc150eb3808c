/**
 * The timer of a background loop (alert email sender, retention purge): one pass at once on start,
 * then one every interval after the previous pass ended, never two at a time; a failed pass is
 * reported and the next one goes on. Its timer never keeps the process alive.
 */

/** Runs `pass` periodically until stopped; a stopped loop does not start again. */
export class PeriodicPass {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | null = null;
  private stopped = true;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly intervalMs: () => number,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** True once stop() was called: long passes check it between batches and return early. */
  get stopping(): boolean {
    return this.closing !== null;
  }

  /** Starts passes: one at once, then every intervalMs. */
  start(): void {
    if (!this.stopped || this.closing) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops after the pass in progress, then runs `close` once; calling it again waits for the same stop. */
  stop(close: () => Promise<void> | void = () => {}): Promise<void> {
    this.closing ??= (async () => {
      this.stopped = true;
      clearTimeout(this.timer);
      this.timer = undefined;
      await this.running;
      await close();
    })();
    return this.closing;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .catch(this.onError)
        .finally(() => {
          this.running = null;
          this.schedule(this.intervalMs());
        });
    }, ms);
    this.timer.unref();
  }
}
