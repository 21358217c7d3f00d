/**
 * When checkpoints run: every `intervalMs`, or at once when asked (a live window became due),
 * never two at a time - a request during a checkpoint runs right after it.
 */
export class CheckpointScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private requested = false;
  private stopped = true;

  constructor(
    private readonly intervalMs: number,
    private readonly checkpoint: () => Promise<void>,
    private readonly onError: (error: Error) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Runs a checkpoint as soon as the one in flight (if any) is done. */
  request(): void {
    if (this.requested || this.stopped) return;
    this.requested = true;
    if (!this.running) {
      clearTimeout(this.timer);
      this.run();
    }
  }

  /** No further checkpoints start; resolves when the one in flight is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.run(), this.requested ? 0 : this.intervalMs);
  }

  private run(): void {
    this.requested = false;
    this.running = this.checkpoint()
      .catch((error: Error) => this.onError(error))
      .finally(() => {
        this.running = undefined;
        this.schedule();
      });
  }
}
