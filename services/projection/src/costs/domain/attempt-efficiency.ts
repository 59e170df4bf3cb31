import type { CostBreakdown, ResourceUsage } from '@flotilla/contracts';

const BYTES_PER_GB = 1024 ** 3;

/**
 * What an attempt's CPU and memory charge bought that it actually used. The charge is
 * max(requested, used) × time (OpenCost's rule), so the difference is capacity paid for and left
 * idle: the share of each charge that usage accounts for, in (fractional) micro-units. Fixed and per-unit prices
 * do not enter: no sizing changes them.
 */
export function resourceUse(breakdown: CostBreakdown, usage: ResourceUsage): { readonly resourceMicros: number; readonly usedMicros: number } {
  const usedCoreMs = Math.max(0, usage.cpuTimeMs);
  const usedGbMs = (Math.max(0, usage.peakRssBytes) / BYTES_PER_GB) * Math.max(0, usage.wallTimeMs);
  // Not rounded: a weight, not money. An attempt of 1 µ of CPU that used 60 % of it counts 0.6, not 1.
  const usedMicros = breakdown.cpuMicros * share(usedCoreMs, breakdown.cpuCoreMs) + breakdown.memoryMicros * share(usedGbMs, breakdown.memoryGbMs);
  return { resourceMicros: breakdown.cpuMicros + breakdown.memoryMicros, usedMicros };
}

function share(used: number, charged: number): number {
  return charged > 0 && Number.isFinite(used) ? Math.min(1, used / charged) : 0;
}

/** Efficiency 0–1 (used ÷ paid for), three decimals; null when nothing was charged for CPU or memory. */
export function efficiency(usedMicros: number, resourceMicros: number): number | null {
  return resourceMicros > 0 ? Math.round((Math.min(usedMicros, resourceMicros) * 1000) / resourceMicros) / 1000 : null;
}
