// Shared by the benchmarks: the real stack (started like the test suite does) and small statistics.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const globalSetup: () => Promise<void> = require('../libs/testing/src/global-setup.js');

export async function ensureStack(): Promise<void> {
  await globalSetup();
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
