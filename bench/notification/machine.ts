// What the figures ran on: cores, load, and the CPU time a process used (Linux /proc).
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ): 100 on every Linux we run on. */
const USER_HZ = 100;

/** User + system CPU time the process has used so far, ms; NaN when it is gone or this is not Linux. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return NaN;
  }
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}), ${Math.round(os.totalmem() / 1024 ** 3)} GB, node ${process.version}`;
}
