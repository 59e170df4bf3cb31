const DAY_MS = 24 * 60 * 60 * 1000;

export interface PriorityInputs {
  readonly contractValue: number | null;
  readonly deadlineAt: number | null;
  readonly tier: string | null;
}

/**
 * The seeds' formula: contract value / 10 000 (at most 50) + deadline urgency max(0, 30 − days to
 * deadline) + 20 for premium. An overdue deadline counts as due today (30 points), never more.
 */
export function basePriority({ contractValue, deadlineAt, tier }: PriorityInputs, now: number): number {
  const value = Math.min(50, Math.max(0, contractValue ?? 0) / 10_000);
  const urgency = deadlineAt === null ? 0 : Math.min(30, Math.max(0, 30 - Math.max(0, deadlineAt - now) / DAY_MS));
  const premium = tier === 'premium' ? 20 : 0;
  return round2(value + urgency + premium);
}

/**
 * Base priority plus aging: every minute in the queue adds `agingPointsPerMinute`. As the base is at
 * most 100, an execution that has waited 100 / rate minutes outranks anything that arrives after it.
 */
export function effectivePriority(base: number, queuedAt: number, now: number, agingPointsPerMinute: number): number {
  return round2(base + (Math.max(0, now - queuedAt) / 60_000) * agingPointsPerMinute);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
