import type { PoolSample } from './over-provisioning';
import { DEFAULT_SCHEDULE_HINTS, scheduleHint } from './schedule-hints';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 27, 23, 59);
/**
 * `days` days of reports from one instance of 8 workers of 2 slots, every 10 minutes; `busySlots(hour)`
 * slots busy at each UTC hour of the day.
 */
function days(count: number, busySlots: (hour: number) => number): PoolSample[] {
  const samples: PoolSample[] = [];
  for (let d = 0; d < count; d++) {
    for (let h = 0; h < 24; h++) {
      for (let m = 0; m < 60; m += 10) samples.push({ instanceId: 'i-1', windowEndedAt: Date.UTC(2026, 10, 27 - d, h, m), workers: 8, concurrency: 16, utilization: busySlots(h) / 16 });
    }
  }
  return samples.filter((s) => s.windowEndedAt <= NOW);
}
const nightly = (hour: number) => (hour < 6 ? 1 : 14); // quiet 00:00–06:00 UTC, busy the rest of the day

describe('schedule hints from daily patterns', () => {
  it('finds the quiet hours of each day and sizes them: 1 busy slot + 15 % needs 1 worker of 2 slots', () => {
    const hint = scheduleHint('code_gen', days(7, nightly), NOW, 140_000)!;
    expect(hint).toMatchObject({ fromHour: 0, toHour: 6, currentWorkers: 8, workersInWindow: 1, daysObserved: 7 });
    // 7 workers given back for 6 hours a day, 30.4 days a month, at 140,000 µ per worker-hour.
    expect(hint.estimatedMonthlySavingMicros).toBe(Math.round(7 * 6 * 140_000 * 30.4));
    expect(hint.summary).toBe('the code_gen pool could run 1 worker(s) instead of 8 between 00:00 and 06:00 UTC (seen on 7 days)');
  });

  it('says nothing before it has seen enough days, or when no hours are quiet enough for long enough', () => {
    expect(scheduleHint('code_gen', days(2, nightly), NOW, 140_000)).toBeNull();
    expect(scheduleHint('code_gen', days(7, () => 14), NOW, 140_000)).toBeNull();
    // Two quiet hours are shorter than the 3 a schedule needs.
    expect(scheduleHint('code_gen', days(7, (h) => (h === 3 || h === 4 ? 1 : 14)), NOW, 140_000, DEFAULT_SCHEDULE_HINTS)).toBeNull();
  });

  it('sizes each hour at its p90 across the days, not its average: busy on 2 nights of 7, that hour stays out of the window', () => {
    // Hour 2 is busy on 2 days of 7 (p90 falls on a busy day): the window stops before it.
    const samples = days(7, nightly).map((s) => {
      const day = Math.floor((NOW - s.windowEndedAt) / DAY);
      return new Date(s.windowEndedAt).getUTCHours() === 2 && day < 2 ? { ...s, utilization: 14 / 16 } : s;
    });
    const hint = scheduleHint('code_gen', samples, NOW, 140_000)!;
    expect([hint.fromHour, hint.toHour]).toEqual([3, 6]);
  });
});

describe('the pool as it runs now', () => {
  it('counts only instances still reporting: one replaced by a restart 3 days ago is gone', () => {
    // The same pool, its process restarted 3 days ago under a new instance id.
    const samples = days(7, nightly).map((s) => (s.windowEndedAt > NOW - 3 * DAY ? { ...s, instanceId: 'i-2' } : s));
    expect(scheduleHint('code_gen', samples, NOW, 140_000)).toMatchObject({ fromHour: 0, toHour: 6, currentWorkers: 8, workersInWindow: 1 });
  });
});
