import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

export interface LoadSummary {
  readonly cores: number;
  readonly samples: number;
  readonly loadMean: number;
  readonly loadMax: number;
  /** Share of the machine's CPU time busy (all processes, ours and anyone's), from /proc/stat; null where it cannot be read. */
  readonly busyMean: number | null;
  readonly busyMax: number | null;
}

/**
 * Samples the host's 1-minute load average and CPU busy share while the live run lasts: the platform,
 * its workers and the stack share the host's cores with whatever else runs there, and a starved
 * worker starts and picks tasks up later than the simulation's.
 */
export class MachineLoad {
  private timer: NodeJS.Timeout | null = null;
  private readonly loads: number[] = [];
  private readonly busy: number[] = [];
  private last = cpuTimes();

  start(everyMs = 5_000): void {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  stop(): LoadSummary {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
    return {
      cores: availableParallelism(),
      samples: this.loads.length,
      loadMean: mean(this.loads),
      loadMax: Math.max(0, ...this.loads),
      busyMean: this.busy.length > 0 ? mean(this.busy) : null,
      busyMax: this.busy.length > 0 ? Math.max(...this.busy) : null,
    };
  }

  private sample(): void {
    this.loads.push(loadavg()[0]);
    const now = cpuTimes();
    if (now && this.last && now.total > this.last.total) this.busy.push((now.busy - this.last.busy) / (now.total - this.last.total));
    this.last = now;
  }
}

/** The machine's CPU time so far (all cores), busy and total, from /proc/stat's first line. */
function cpuTimes(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}
