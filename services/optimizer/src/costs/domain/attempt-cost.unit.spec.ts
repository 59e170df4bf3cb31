import { attemptCost, idleCost, reportedUnits } from './attempt-cost';
import { DEFAULT_PRICE_SHEET, pricesFor, type PriceSheet } from '@flotilla/contracts';

const GiB = 1024 ** 3;
const prices = DEFAULT_PRICE_SHEET.default; // 50,000 µ$/core-hour, 10,000 µ$/GB-hour; a slot requests 0.25 core and 0.25 GB

describe('cost of an attempt (worked examples, default sheet)', () => {
  it.each([
    [
      'two minutes mostly idle: the request sets both charges',
      { wallTimeMs: 120_000, cpuTimeMs: 20_000, peakRssBytes: 128 * 1024 ** 2 },
      // CPU: max(0.25 × 120,000, 20,000) = 30,000 core-ms × 50,000 / 3,600,000 = 416.67 → 417
      // memory: max(0.25, 0.125) GB × 120,000 ms = 30,000 GB-ms × 10,000 / 3,600,000 = 83.33 → 83
      { cpuMicros: 417, memoryMicros: 83, totalMicros: 500, cpuBasis: 'requested', memoryBasis: 'requested' },
    ],
    [
      'one minute at 1.5 cores and 1 GiB: usage sets both charges',
      { wallTimeMs: 60_000, cpuTimeMs: 90_000, peakRssBytes: GiB },
      // CPU: 90,000 core-ms → 1,250; memory: 1 GB × 60,000 ms → 166.67 → 167
      { cpuMicros: 1_250, memoryMicros: 167, totalMicros: 1_417, cpuBasis: 'used', memoryBasis: 'used' },
    ],
    [
      'one hour holding a slot and doing nothing costs the slot: 0.25 × $0.05 + 0.25 × $0.01',
      { wallTimeMs: 3_600_000, cpuTimeMs: 0, peakRssBytes: 0 },
      { cpuMicros: 12_500, memoryMicros: 2_500, totalMicros: 15_000, cpuBasis: 'requested', memoryBasis: 'requested' },
    ],
    ['an attempt that never ran costs nothing', { wallTimeMs: 0, cpuTimeMs: 0, peakRssBytes: 0 }, { cpuMicros: 0, memoryMicros: 0, totalMicros: 0 }],
  ])('%s', (_name, usage, expected) => {
    const cost = attemptCost(usage, prices);
    expect(cost).toMatchObject(expected);
    expect(cost.totalMicros).toBe(cost.cpuMicros + cost.memoryMicros + cost.fixedMicros + cost.unitsMicros);
    expect(Number.isInteger(cost.totalMicros)).toBe(true);
  });

  it('adds the fixed price per attempt and the priced units the task reported, and ignores the others', () => {
    const sheet: PriceSheet = { ...DEFAULT_PRICE_SHEET, agentTypes: { code_gen: { perTaskMicros: 1_000, perUnitMicros: { tokens: 2 } } } };
    const codeGen = pricesFor(sheet, 'code_gen');
    const units = reportedUnits({ tokens: '1500', summary: 'done', images: '3' }, codeGen);
    expect(units).toEqual({ tokens: 1_500 });
    const cost = attemptCost({ wallTimeMs: 3_600_000, cpuTimeMs: 0, peakRssBytes: 0 }, codeGen, units);
    expect(cost).toMatchObject({ fixedMicros: 1_000, unitsMicros: 3_000, totalMicros: 15_000 + 1_000 + 3_000 });
    // Another agent type keeps the default sheet: no fixed price, tokens not priced.
    expect(attemptCost({ wallTimeMs: 3_600_000, cpuTimeMs: 0, peakRssBytes: 0 }, pricesFor(sheet, 'review'), { tokens: 1_500 }).totalMicros).toBe(15_000);
  });

  it('merges an agent type override field by field over the default', () => {
    const sheet: PriceSheet = { ...DEFAULT_PRICE_SHEET, agentTypes: { ml: { cpuCoreHourMicros: 200_000, requested: { cpuCores: 2 } as never } } };
    expect(pricesFor(sheet, 'ml')).toEqual({ ...DEFAULT_PRICE_SHEET.default, cpuCoreHourMicros: 200_000, requested: { cpuCores: 2, memoryGb: 0.25 } });
  });

  it('reads a reported unit only when it is a positive number', () => {
    const codeGen = pricesFor({ ...DEFAULT_PRICE_SHEET, default: { ...prices, perUnitMicros: { tokens: 2 } } }, 'x');
    expect(reportedUnits({ tokens: 'many' }, codeGen)).toEqual({});
    expect(reportedUnits({ tokens: '-4' }, codeGen)).toEqual({});
    expect(reportedUnits({}, codeGen)).toEqual({});
  });
});

describe('idle cost (provisioned capacity less what ran on it)', () => {
  it.each([
    ['two workers for an hour, one slot-hour used', 2 * 3_600_000, 15_000, { provisionedMicros: 280_000, idleMicros: 265_000 }],
    ['nothing provisioned', 0, 0, { provisionedMicros: 0, idleMicros: 0 }],
    ['attempts charged above their request cost more than the workers: no negative idle', 60_000, 10_000, { provisionedMicros: 2_333, idleMicros: 0 }],
  ])('%s', (_name, provisionedWorkerMs, allocatedMicros, expected) => {
    expect(idleCost({ provisionedWorkerMs, allocatedMicros }, prices)).toEqual(expected);
  });
});
