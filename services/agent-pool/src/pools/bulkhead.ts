/** Work a bulkhead runs in one of its slots. */
export interface BulkheadJob {
  run(): Promise<void>;
}

export interface BulkheadHooks<J> {
  onStart?(job: J): void;
  onFinish?(job: J): void;
}

/**
 * One pool's bulkhead: at most `limit` jobs run at once, and at most `limit × queuePerSlot` wait
 * behind them; `offer` refuses beyond that, so the caller stops taking work (backpressure) instead of
 * buffering without bound. The limit changes at runtime: growing starts waiting jobs at once,
 * shrinking lets running jobs finish and starts no new one until fewer than the limit run.
 */
export class Bulkhead<J extends BulkheadJob> {
  private readonly waiting: J[] = [];
  private readonly running = new Set<Promise<void>>();
  private roomListeners: (() => void)[] = [];

  constructor(
    private limitValue: number,
    private readonly queuePerSlot: number,
    private readonly hooks: BulkheadHooks<J> = {},
  ) {}

  get limit(): number {
    return this.limitValue;
  }

  get inFlight(): number {
    return this.running.size;
  }

  get queued(): number {
    return this.waiting.length;
  }

  get queueCapacity(): number {
    return Math.max(1, this.limitValue * this.queuePerSlot);
  }

  hasRoom(): boolean {
    return this.running.size < this.limitValue || this.waiting.length < this.queueCapacity;
  }

  /** Starts the job, or queues it; false when the bulkhead is full and the job was not taken. */
  offer(job: J): boolean {
    if (!this.hasRoom()) return false;
    this.waiting.push(job);
    this.pump();
    return true;
  }

  setLimit(limit: number): void {
    this.limitValue = limit;
    this.pump();
  }

  /** Takes waiting jobs that match out of the queue (not running ones) and returns them. */
  remove(matches: (job: J) => boolean): J[] {
    const removed: J[] = [];
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (matches(this.waiting[i])) removed.unshift(...this.waiting.splice(i, 1));
    }
    if (removed.length > 0) this.notifyRoom();
    return removed;
  }

  /** Calls `listener` once, as soon as the bulkhead has room (at once if it has now). */
  whenRoom(listener: () => void): void {
    if (this.hasRoom()) return listener();
    this.roomListeners.push(listener);
  }

  /** Waits for the running jobs, at most `timeoutMs`; returns whether they all finished. */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const finished = (async () => {
      while (this.running.size > 0) await Promise.allSettled([...this.running]);
      return true as const;
    })();
    try {
      return await Promise.race([finished, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private pump(): void {
    while (this.running.size < this.limitValue && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      this.hooks.onStart?.(job);
      // Jobs handle their own failures; the bulkhead only keeps count.
      const run: Promise<void> = job
        .run()
        .catch(() => undefined)
        .finally(() => {
          this.running.delete(run);
          this.hooks.onFinish?.(job);
          this.pump();
        });
      this.running.add(run);
    }
    this.notifyRoom();
  }

  private notifyRoom(): void {
    if (this.roomListeners.length === 0 || !this.hasRoom()) return;
    const listeners = this.roomListeners;
    this.roomListeners = [];
    for (const listener of listeners) listener();
  }
}
