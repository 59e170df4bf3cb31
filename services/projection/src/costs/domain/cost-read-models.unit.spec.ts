import { efficiency, resourceUse } from './attempt-efficiency';
import { budgetStatus, spendWindow, type BudgetDefinitionRow } from './budget-status';

const GiB = 1024 ** 3;

describe('attempt efficiency (used ÷ paid for, CPU and memory)', () => {
  // Requests of 0.25 core and 0.25 GiB over 10 s: 2 500 core-ms and 2 500 GiB-ms charged at least.
  const charged = { cpuMicros: 1_000, memoryMicros: 400, fixedMicros: 50, unitsMicros: 7, totalMicros: 1_457, cpuCoreMs: 2_500, memoryGbMs: 2_500, cpuBasis: 'requested', memoryBasis: 'requested' };
  it.each([
    ['used all it requested', { cpuTimeMs: 2_500, peakRssBytes: 0.25 * GiB, wallTimeMs: 10_000 }, 1_400, 1],
    ['idle: nothing used', { cpuTimeMs: 0, peakRssBytes: 0, wallTimeMs: 10_000 }, 0, 0],
    // CPU: 500 of 2 500 core-ms → 200 µ of 1 000; memory: 0.125 GiB × 10 s = 1 250 of 2 500 GiB-ms → 200 µ of 400.
    ['a fifth of the CPU, half the memory', { cpuTimeMs: 500, peakRssBytes: 0.125 * GiB, wallTimeMs: 10_000 }, 400, 0.286],
  ])('%s', (_name, usage, usedMicros, score) => {
    const use = resourceUse(charged, usage);
    expect(use).toEqual({ resourceMicros: 1_400, usedMicros });
    expect(efficiency(use.usedMicros, use.resourceMicros)).toBe(score);
  });

  it('usage above the request was charged as used: it counts as fully used, never above 1', () => {
    const byUsage = { ...charged, cpuCoreMs: 8_000, cpuMicros: 3_200, cpuBasis: 'used' };
    const use = resourceUse(byUsage, { cpuTimeMs: 8_000, peakRssBytes: 0.25 * GiB, wallTimeMs: 10_000 });
    expect(use).toEqual({ resourceMicros: 3_600, usedMicros: 3_600 });
    expect(efficiency(use.usedMicros, use.resourceMicros)).toBe(1);
  });

  it('a charge of a micro-unit or two is weighted as it is, not rounded to all or nothing', () => {
    // 1 µ of CPU for 100 core-ms of which 60 were used; memory charged nothing (rounded to 0 µ).
    const tiny = { ...charged, cpuMicros: 1, memoryMicros: 0, cpuCoreMs: 100, memoryGbMs: 25 };
    const use = resourceUse(tiny, { cpuTimeMs: 60, peakRssBytes: 0, wallTimeMs: 100 });
    expect(use.usedMicros).toBeCloseTo(0.6, 10);
    expect(efficiency(use.usedMicros, use.resourceMicros)).toBe(0.6);
  });

  it('nothing charged for CPU or memory has no efficiency', () => {
    expect(efficiency(0, 0)).toBeNull();
  });
});

describe('budget status (read model)', () => {
  const budget: BudgetDefinitionRow = {
    budgetId: 'customer:acme',
    period: 'daily',
    amountMicros: 1_000_000,
    thresholds: [75, 90, 100],
    atExhaustion: 'hold_executions',
    firstDefinedAt: Date.parse('2026-11-27T06:00:00Z'),
    definedAt: Date.parse('2026-11-27T06:00:00Z'),
    definedBy: 'ops',
  };

  it('costs count from the first definition on the day it was set, from midnight on the next', () => {
    expect(spendWindow(budget, Date.parse('2026-11-27T12:00:00Z')).countsFrom).toBe(budget.firstDefinedAt);
    expect(spendWindow(budget, Date.parse('2026-11-28T12:00:00Z')).countsFrom).toBe(Date.parse('2026-11-28T00:00:00Z'));
  });

  it.each([
    ['nothing crossed', 300_000, [], 'ok'],
    ['the lowest threshold', 760_000, [75], 'warning'],
    ['a middle one', 900_000, [90, 75], 'critical'],
    ['100 %', 1_000_000, [75, 90, 100], 'exhausted'],
  ] as const)('%s', (_name, spentMicros, crossed, level) => {
    const view = budgetStatus(budget, { spentMicros, reservedMicros: 50_000, crossed }, Date.parse('2026-11-27T12:00:00Z'));
    expect(view.level).toBe(level);
    expect(view.crossed).toEqual([...crossed].sort((a, b) => a - b));
    expect(view.availableMicros).toBe(Math.max(0, 1_000_000 - spentMicros - 50_000));
    expect(view.percentUsed).toBe(spentMicros / 10_000);
  });

  it('forecasts the spend at the end of the period at the pace since spend counts, and names the scope', () => {
    // Set at 06:00, 300 000 µ spent by noon: 6 of the 18 hours it counts, so 900 000 µ by midnight.
    const view = budgetStatus(budget, { spentMicros: 300_000, reservedMicros: 0, crossed: [] }, Date.parse('2026-11-27T12:00:00Z'));
    expect(view).toMatchObject({ scope: 'customer', customerId: 'acme', agentType: null, periodKey: '2026-11-27', periodEnd: '2026-11-28T00:00:00.000Z', forecastMicros: 900_000, forecastPercent: 90 });
    // The next day counts from midnight: half of it gone, 300 000 µ → 600 000 µ.
    expect(budgetStatus(budget, { spentMicros: 300_000, reservedMicros: 0, crossed: [] }, Date.parse('2026-11-28T12:00:00Z'))).toMatchObject({ periodKey: '2026-11-28', forecastMicros: 600_000 });
  });
});
