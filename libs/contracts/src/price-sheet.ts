/**
 * What the platform charges for, per agent type with a default. Every price is an integer number of
 * micro-units of the sheet's currency (1 USD = 1,000,000 micro-USD): money is summed across millions
 * of attempts, and floats would make the ledger and an independent sum disagree in the last digit.
 */
export interface Prices {
  /** One CPU core for one hour. */
  readonly cpuCoreHourMicros: number;
  /** One GiB of memory for one hour (what cloud price lists call a GB). */
  readonly memoryGbHourMicros: number;
  /** One provisioned worker for one hour, used or not: what idle cost is measured against. */
  readonly workerHourMicros: number;
  /** A fixed price per task attempt (0 for none). */
  readonly perTaskMicros: number;
  /** Per unit a task reports in its output (`tokens`: micro-units per token), when it reports it. */
  readonly perUnitMicros: Readonly<Record<string, number>>;
  /**
   * What one task slot requests. OpenCost's rule: a workload costs max(requested, used), since
   * capacity held for it cannot go to anyone else even when it sits unused.
   */
  readonly requested: { readonly cpuCores: number; readonly memoryGb: number };
}

export interface PriceSheet {
  readonly currency: string;
  readonly default: Prices;
  /** Overrides per agent type; a field left out keeps the default's. */
  readonly agentTypes: Readonly<Record<string, Partial<Prices>>>;
}

/**
 * The default sheet: the seed's list prices ($0.05 per core-hour, $0.01 per GB-hour); a worker of
 * 2 cores and 4 GB therefore costs $0.14 an hour; a task slot requests a quarter core and 256 MB.
 */
export const DEFAULT_PRICE_SHEET: PriceSheet = {
  currency: 'USD',
  default: {
    cpuCoreHourMicros: 50_000,
    memoryGbHourMicros: 10_000,
    workerHourMicros: 140_000,
    perTaskMicros: 0,
    perUnitMicros: {},
    requested: { cpuCores: 0.25, memoryGb: 0.25 },
  },
  agentTypes: {},
};

/** The prices of one agent type: its overrides over the default. */
export function pricesFor(sheet: PriceSheet, agentType: string): Prices {
  const own = sheet.agentTypes[agentType];
  if (!own) return sheet.default;
  return {
    ...sheet.default,
    ...own,
    perUnitMicros: { ...sheet.default.perUnitMicros, ...own.perUnitMicros },
    requested: { ...sheet.default.requested, ...own.requested },
  };
}
