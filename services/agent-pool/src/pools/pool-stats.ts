import { availableSlotMs, busySlotMs, type FinishedAttempt, type LimitChange, type SlotSpan, type WindowInput } from './domain/pool-window';

export interface SlotHold {
  readonly startedAt: number;
  finishedAt: number | null;
}

/** What one pool's window saw, ready for the pure window arithmetic. */
export interface WindowCut extends WindowInput {
  /** CPU time that executors measured themselves (child processes), of attempts finished in the window. */
  readonly measuredCpuMs: number;
}

/** Raw observations of one pool between two reports; `cut` hands them over and starts the next window. */
export class PoolStats {
  private windowStartedAt: number;
  private limitAtStart: number;
  private limitChanges: LimitChange[] = [];
  private arrivals = 0;
  private finished: FinishedAttempt[] = [];
  private measuredCpuMs = 0;
  private readonly holds = new Set<SlotHold>();

  constructor(limit: number, now: number) {
    this.windowStartedAt = now;
    this.limitAtStart = limit;
  }

  arrived(): void {
    this.arrivals++;
  }

  started(now: number): SlotHold {
    const hold: SlotHold = { startedAt: now, finishedAt: null };
    this.holds.add(hold);
    return hold;
  }

  released(hold: SlotHold, now: number): void {
    hold.finishedAt = now;
  }

  finishedAttempt(attempt: FinishedAttempt, measuredCpuMs: number): void {
    this.finished.push(attempt);
    this.measuredCpuMs += measuredCpuMs;
  }

  limitChanged(limit: number, now: number): void {
    this.limitChanges.push({ at: now, limit });
  }

  cut(now: number): WindowCut {
    const spans: SlotSpan[] = [...this.holds];
    const cut: WindowCut = {
      startedAt: this.windowStartedAt,
      endedAt: now,
      arrivals: this.arrivals,
      finished: this.finished,
      busySlotMs: busySlotMs(spans, this.windowStartedAt, now),
      availableSlotMs: availableSlotMs(this.limitAtStart, this.limitChanges, this.windowStartedAt, now),
      measuredCpuMs: this.measuredCpuMs,
    };
    for (const hold of this.holds) if (hold.finishedAt !== null) this.holds.delete(hold);
    this.limitAtStart = this.limitChanges.length > 0 ? this.limitChanges[this.limitChanges.length - 1].limit : this.limitAtStart;
    this.limitChanges = [];
    this.windowStartedAt = now;
    this.arrivals = 0;
    this.finished = [];
    this.measuredCpuMs = 0;
    return cut;
  }
}
