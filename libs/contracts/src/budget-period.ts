export type BudgetPeriodKind = 'daily' | 'weekly' | 'monthly';

/** One period of a budget: [start, end) in ms since the epoch, UTC boundaries. */
export interface BudgetPeriod {
  /** Names the period: `2026-11-27`, `2026-W48` (ISO week), `2026-11`. */
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

const DAY = 86_400_000;

/** The period of `kind` that holds the instant `at`. Weeks start on Monday, as ISO 8601 has them. */
export function periodAt(kind: BudgetPeriodKind, at: number): BudgetPeriod {
  const date = new Date(at);
  const dayStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  switch (kind) {
    case 'daily':
      return { key: new Date(dayStart).toISOString().slice(0, 10), start: dayStart, end: dayStart + DAY };
    case 'weekly': {
      const daysSinceMonday = (date.getUTCDay() + 6) % 7;
      const start = dayStart - daysSinceMonday * DAY;
      return { key: isoWeekKey(start), start, end: start + 7 * DAY };
    }
    case 'monthly': {
      const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
      const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
      return { key: new Date(start).toISOString().slice(0, 7), start, end };
    }
  }
}

/** ISO week of the week starting on `monday`: the week belongs to the year of its Thursday. */
function isoWeekKey(monday: number): string {
  const thursday = new Date(monday + 3 * DAY);
  const year = thursday.getUTCFullYear();
  const firstThursdayWeekMonday = mondayOfWeek1(year);
  const week = Math.round((monday - firstThursdayWeekMonday) / (7 * DAY)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Monday of ISO week 1: the week holding 4 January. */
function mondayOfWeek1(year: number): number {
  const jan4 = Date.UTC(year, 0, 4);
  return jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY;
}

/** `micros` as a percentage of `amountMicros`, two decimals; 0 for a budget of nothing. */
export function percentOfBudget(micros: number, amountMicros: number): number {
  return amountMicros > 0 ? Math.round((micros * 10_000) / amountMicros) / 100 : 0;
}

/**
 * Spend at the end of the period if it goes on at the pace so far (spent ÷ elapsed × length, from
 * `start`: the period's, or later when spend counted only from then); the spend itself until a
 * tenth of that time has passed, when a pace says little yet.
 */
export function forecastSpend(spentMicros: number, period: Pick<BudgetPeriod, 'start' | 'end'>, now: number): number {
  const length = period.end - period.start;
  const elapsed = Math.max(0, now - period.start);
  return elapsed < length / 10 ? spentMicros : Math.round((spentMicros * length) / elapsed);
}

/**
 * A budget's figures for its current period, as both the optimizer's API and the read model answer
 * them: the spend, what is held, what is left, and where it is heading. Times are ISO-8601.
 */
export interface BudgetPeriodFigures {
  readonly budgetId: string;
  readonly amountMicros: number;
  readonly thresholds: readonly number[];
  readonly atExhaustion: string;
  readonly periodKey: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly spentMicros: number;
  readonly reservedMicros: number;
  /** amount − spent − reserved, never below 0. */
  readonly availableMicros: number;
  /** Spent as a percentage of the amount, two decimals. */
  readonly percentUsed: number;
  /** Spend at the end of the period at the pace so far (forecastSpend). */
  readonly forecastMicros: number;
  readonly forecastPercent: number;
  /** Thresholds crossed this period, ascending. */
  readonly crossed: readonly number[];
}
