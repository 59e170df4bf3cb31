import { availableSlotMs, busySlotMs, percentile, processShares, summarizeWindow } from './pool-window';

describe('pool metrics window', () => {
  it('takes nearest-rank percentiles, and none of nothing', () => {
    const values = Array.from({ length: 20 }, (_, i) => (i + 1) * 10); // 10..200
    expect(percentile(values, 50)).toBe(100);
    expect(percentile(values, 95)).toBe(190);
    expect(percentile([42], 95)).toBe(42);
    expect(percentile([], 50)).toBeNull();
  });

  it('counts only the part of each slot span inside the window, running spans up to its end', () => {
    const spans = [
      { startedAt: 0, finishedAt: 1_500 }, // 500 inside [1000, 5000)
      { startedAt: 2_000, finishedAt: 3_000 }, // 1000
      { startedAt: 4_000, finishedAt: null }, // still running: 1000
      { startedAt: 6_000, finishedAt: 7_000 }, // after the window
    ];
    expect(busySlotMs(spans, 1_000, 5_000)).toBe(2_500);
  });

  it('integrates the limit over the window when a capacity change happens mid-window', () => {
    expect(availableSlotMs(2, [], 0, 1_000)).toBe(2_000);
    expect(availableSlotMs(2, [{ at: 500, limit: 4 }], 0, 1_000)).toBe(1_000 + 2_000);
    expect(availableSlotMs(2, [{ at: -10, limit: 3 }, { at: 2_000, limit: 9 }], 0, 1_000)).toBe(3_000);
  });

  it('turns a window into rates, error rate, latency percentiles and utilization', () => {
    const summary = summarizeWindow({
      startedAt: 10_000,
      endedAt: 15_000,
      arrivals: 10,
      finished: [
        { latencyMs: 100, ok: true },
        { latencyMs: 300, ok: true },
        { latencyMs: 200, ok: false },
        { latencyMs: 400, ok: true },
      ],
      busySlotMs: 7_500,
      availableSlotMs: 10_000,
    });
    expect(summary).toEqual({ utilization: 0.75, arrivalRatePerSec: 2, completionRatePerSec: 0.8, errorRate: 0.25, latencyP50Ms: 200, latencyP95Ms: 400 });
  });

  it('reports an idle window as zero rates, zero utilization and no latency', () => {
    expect(summarizeWindow({ startedAt: 0, endedAt: 5_000, arrivals: 0, finished: [], busySlotMs: 0, availableSlotMs: 0 })).toEqual({
      utilization: 0,
      arrivalRatePerSec: 0,
      completionRatePerSec: 0,
      errorRate: 0,
      latencyP50Ms: null,
      latencyP95Ms: null,
    });
  });

  it('attributes the process to pools by busy slot-time, equally when all idle', () => {
    expect(processShares({ code_gen: 3_000, review: 1_000 })).toEqual({ code_gen: 0.75, review: 0.25 });
    expect(processShares({ code_gen: 0, review: 0 })).toEqual({ code_gen: 0.5, review: 0.5 });
  });
});
