import type { BudgetPeriodKind } from '@flotilla/contracts';

/**
 * A Budget aggregate: an amount per period for a scope (a customer, a pool, or everything), the
 * money spent in the current period, and the reservations the scaler holds against it.
 *
 * A reservation's life (each step idempotent by reservation id):
 *
 *   requested ──▶ reserved ──▶ committed   (the scale-up happened: the amount is spent)
 *       │            ├───────▶ released    (the saga compensated)
 *       │            └───────▶ expired     (nobody came back before expiresAt: released by a timer)
 *       └──▶ denied (amount above what is available; says how much is)
 *
 * available = amount − spent − Σ reserved. Commands on one budget are decided one at a time on its
 * row, locked for the transaction (see BudgetCommands), so two reservations can never both take the
 * same money: the second is decided on a state that holds the first. Budgets are named by their scope
 * (`budgetId`, see BudgetScope in the contracts).
 */
export type AtExhaustion = 'alert' | 'hold_executions' | 'deny_scale_ups';
export const AT_EXHAUSTION: readonly AtExhaustion[] = ['alert', 'hold_executions', 'deny_scale_ups'];

export interface BudgetDefinition {
  readonly budgetId: string;
  readonly period: BudgetPeriodKind;
  readonly amountMicros: number;
  /** Percentages, ascending; 75, 90 and 100 unless set. */
  readonly thresholds: readonly number[];
  readonly atExhaustion: AtExhaustion;
}

export type ReservationStatus = 'reserved' | 'committed' | 'released' | 'expired' | 'denied';

export interface Reservation {
  readonly amountMicros: number;
  readonly status: ReservationStatus;
  readonly expiresAt: number;
  /** The period the money was reserved in: a commit counts as spend of that period. */
  readonly periodKey: string;
}

export type BudgetState =
  | { readonly status: 'None' }
  | {
      readonly status: 'Active';
      readonly definition: BudgetDefinition;
      /** The period spend and crossings count towards; a later spend or reservation opens the next. */
      readonly periodKey: string;
      readonly spentMicros: number;
      /** Thresholds already crossed this period: each is announced once per period. */
      readonly crossed: readonly number[];
      readonly reservations: Readonly<Record<string, Reservation>>;
      /** When the budget was first set: spend counts from then, so the pace of the first period does too (absent in rows older than this field). */
      readonly firstDefinedAt?: number;
    };

export const DEFAULT_THRESHOLDS = [75, 90, 100] as const;

/** Money still free this period. Never negative: spend can run past the amount (costs are facts). */
export function availableMicros(state: Extract<BudgetState, { status: 'Active' }>): number {
  return Math.max(0, state.definition.amountMicros - state.spentMicros - reservedMicros(state));
}

export function reservedMicros(state: Extract<BudgetState, { status: 'Active' }>): number {
  let reserved = 0;
  for (const r of Object.values(state.reservations)) if (r.status === 'reserved' && r.periodKey === state.periodKey) reserved += r.amountMicros;
  return reserved;
}

/** The thresholds (percent) that `usedMicros` reaches and that were not crossed yet, ascending. */
export function newlyCrossed(definition: BudgetDefinition, usedMicros: number, crossed: readonly number[]): number[] {
  if (definition.amountMicros <= 0) return [];
  // In integers: used × 100 ≥ threshold × amount, so that 75 % of 1,000,001 µ$ is not decided by a float.
  return definition.thresholds.filter((t) => !crossed.includes(t) && usedMicros * 100 >= t * definition.amountMicros);
}
