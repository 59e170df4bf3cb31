import type { CostBreakdown as PublishedBreakdown, Prices, ResourceUsage } from '@flotilla/contracts';

/** What an attempt used, as the agent pool measured it (TaskCompleted and TaskFailed carry it). */
export type MeasuredUsage = ResourceUsage;

/**
 * One attempt's cost as CostRecorded publishes it (each part rounded to the micro-unit on its own, so
 * that the parts add up to the total), with the basis of each charge narrowed: whether the request or
 * the usage set it is the evidence behind right-sizing.
 */
export interface CostBreakdown extends Omit<PublishedBreakdown, 'cpuBasis' | 'memoryBasis'> {
  readonly cpuBasis: 'requested' | 'used';
  readonly memoryBasis: 'requested' | 'used';
}

const MS_PER_HOUR = 3_600_000;
const BYTES_PER_GB = 1024 ** 3;

/**
 * OpenCost's rule for one attempt: max(requested, used) × time × rate, for CPU and memory; then the
 * fixed price per attempt and the price of each unit the task reported (`units`, e.g. tokens from
 * its output). A retried attempt is an attempt: each costs what it held.
 */
export function attemptCost(usage: MeasuredUsage, prices: Prices, units: Readonly<Record<string, number>> = {}): CostBreakdown {
  const wallMs = Math.max(0, usage.wallTimeMs);
  const requestedCpuCoreMs = prices.requested.cpuCores * wallMs;
  const usedCpuCoreMs = Math.max(0, usage.cpuTimeMs);
  const cpuCoreMs = Math.max(requestedCpuCoreMs, usedCpuCoreMs);
  const requestedGb = prices.requested.memoryGb;
  const usedGb = Math.max(0, usage.peakRssBytes) / BYTES_PER_GB;
  const memoryGbMs = Math.max(requestedGb, usedGb) * wallMs;

  const cpuMicros = Math.round((cpuCoreMs * prices.cpuCoreHourMicros) / MS_PER_HOUR);
  const memoryMicros = Math.round((memoryGbMs * prices.memoryGbHourMicros) / MS_PER_HOUR);
  const fixedMicros = prices.perTaskMicros;
  let unitsMicros = 0;
  for (const [unit, count] of Object.entries(units)) {
    const price = prices.perUnitMicros[unit];
    // A unit nobody priced costs nothing: reporting more detail must not make a task fail to be costed.
    if (price !== undefined && Number.isFinite(count) && count > 0) unitsMicros += Math.round(count * price);
  }
  return {
    cpuMicros,
    memoryMicros,
    fixedMicros,
    unitsMicros,
    totalMicros: cpuMicros + memoryMicros + fixedMicros + unitsMicros,
    cpuCoreMs,
    memoryGbMs,
    cpuBasis: usedCpuCoreMs > requestedCpuCoreMs ? 'used' : 'requested',
    memoryBasis: usedGb > requestedGb ? 'used' : 'requested',
  };
}

/**
 * The units a task reported, read from its output: numeric values of the keys the sheet prices
 * (`tokens: "1234"`). Anything else in the output is the task's business.
 */
export function reportedUnits(output: Readonly<Record<string, string>>, prices: Prices): Record<string, number> {
  const units: Record<string, number> = {};
  for (const unit of Object.keys(prices.perUnitMicros)) {
    const value = Number(output[unit]);
    if (output[unit] !== undefined && Number.isFinite(value) && value > 0) units[unit] = value;
  }
  return units;
}

/**
 * Idle cost over a window, OpenCost's way: what the provisioned workers cost, less what the attempts
 * that ran on them were charged; never below zero (attempts charged by usage above their request can
 * cost more than the capacity they ran on).
 */
export function idleCost(window: { readonly provisionedWorkerMs: number; readonly allocatedMicros: number }, prices: Pick<Prices, 'workerHourMicros'>): { provisionedMicros: number; idleMicros: number } {
  const provisionedMicros = Math.round((Math.max(0, window.provisionedWorkerMs) * prices.workerHourMicros) / MS_PER_HOUR);
  return { provisionedMicros, idleMicros: Math.max(0, provisionedMicros - window.allocatedMicros) };
}
