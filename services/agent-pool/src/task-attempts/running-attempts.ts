/** The attempts this process is running, so that a cancellation can reach the right one. */
export class RunningAttempts {
  private readonly running = new Map<string, AbortController>();

  static key(executionId: string, taskId: string, attempt: number): string {
    return `${executionId}/${taskId}/${attempt}`;
  }

  register(key: string): AbortController {
    const controller = new AbortController();
    this.running.set(key, controller);
    return controller;
  }

  release(key: string): void {
    this.running.delete(key);
  }

  /** Aborts the attempt if it runs here; returns whether it did. */
  cancel(key: string, reason: string): boolean {
    const controller = this.running.get(key);
    if (!controller) return false;
    controller.abort(new CancelledError(reason));
    return true;
  }

  get size(): number {
    return this.running.size;
  }
}

export class CancelledError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CancelledError';
  }
}
