// Auto-refresh: run a task every `intervalMs`, never two at once, and say what happened so the
// page can show it (a live dot, the last update time, the last error).

export interface RefreshStatus {
  loading: boolean;
  paused: boolean;
  lastUpdate: Date | null;
  error: string | null;
}

export class Refresher {
  status: RefreshStatus = { loading: false, paused: false, lastUpdate: null, error: null };
  private timer: ReturnType<typeof setTimeout> | null = null;
  private again = false;

  constructor(
    private readonly task: () => Promise<void>,
    readonly intervalMs: number,
    private readonly onStatus: (status: RefreshStatus) => void = () => {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Refresh now, then every interval. A call while a refresh runs queues one more after it. */
  async refresh(): Promise<void> {
    if (this.status.loading) {
      this.again = true;
      return;
    }
    this.cancelTimer();
    this.update({ loading: true });
    try {
      await this.task();
      this.update({ loading: false, lastUpdate: this.now(), error: null });
    } catch (error) {
      this.update({
        loading: false,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    if (this.again) {
      this.again = false;
      return this.refresh();
    }
    this.schedule();
  }

  setPaused(paused: boolean): void {
    this.update({ paused });
    if (paused) this.cancelTimer();
    else void this.refresh();
  }

  stop(): void {
    this.cancelTimer();
    this.update({ paused: true });
  }

  private schedule(): void {
    if (!this.status.paused) this.timer = setTimeout(() => void this.refresh(), this.intervalMs);
  }

  private cancelTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private update(change: Partial<RefreshStatus>): void {
    this.status = { ...this.status, ...change };
    this.onStatus(this.status);
  }
}
