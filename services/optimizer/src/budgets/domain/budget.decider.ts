import { budgetScopeOf, type AlertRaised, type BudgetDefined, type BudgetReservationCommitted, type BudgetReservationDenied, type BudgetReservationReleased, type BudgetReserved, type BudgetThresholdCrossed } from '@flotilla/contracts';
import { assertNever, type Decider, type DomainEvent } from '@flotilla/domain';
import { availableMicros, newlyCrossed, type BudgetDefinition, type BudgetState, type Reservation } from './budget';
import { periodAt } from '@flotilla/contracts';

export type BudgetCommand =
  | { readonly type: 'DefineBudget'; readonly definition: BudgetDefinition; readonly definedBy: string; readonly now: number }
  | { readonly type: 'RecordSpend'; readonly costId: string; readonly amountMicros: number; readonly at: number; readonly now: number }
  | { readonly type: 'Reserve'; readonly budgetId: string; readonly reservationId: string; readonly amountMicros: number; readonly expiresAt: number; readonly now: number }
  | { readonly type: 'Commit'; readonly reservationId: string; readonly now: number }
  | { readonly type: 'Release'; readonly reservationId: string; readonly now: number }
  | { readonly type: 'Expire'; readonly reservationId: string; readonly now: number };

/**
 * BudgetSpendRecorded is never stored nor published: spend is what the cost ledger recorded
 * (CostRecorded), and the budget's row keeps its sum. It exists so that evolve alone explains the
 * state, as for every aggregate.
 */
export type BudgetEvent =
  | DomainEvent<'flotilla.budget.BudgetDefined', BudgetDefined>
  | DomainEvent<'flotilla.budget.BudgetSpendRecorded', { budgetId: string; costId: string; amountMicros: number; periodKey: string; recordedAt: number }>
  | DomainEvent<'flotilla.budget.BudgetThresholdCrossed', BudgetThresholdCrossed>
  | DomainEvent<'flotilla.alert.AlertRaised', AlertRaised>
  | DomainEvent<'flotilla.budget.BudgetReserved', BudgetReserved>
  | DomainEvent<'flotilla.budget.BudgetReservationDenied', BudgetReservationDenied>
  | DomainEvent<'flotilla.budget.BudgetReservationCommitted', BudgetReservationCommitted>
  | DomainEvent<'flotilla.budget.BudgetReservationReleased', BudgetReservationReleased>;

/** Events kept in the budget's stream and published; the others only move its row. */
export function isStoredBudgetEvent(event: BudgetEvent): boolean {
  return event.type !== 'flotilla.budget.BudgetSpendRecorded';
}

type Active = Extract<BudgetState, { status: 'Active' }>;

function decide(command: BudgetCommand, state: BudgetState): BudgetEvent[] {
  if (command.type === 'DefineBudget') {
    const { budgetId, period, amountMicros, thresholds, atExhaustion } = command.definition;
    const current = periodAt(period, command.now);
    // What was spent so far this period goes with the definition: with the new amount, whoever holds
    // executions on exhaustion can tell whether the budget is exhausted now.
    const spentMicros = state.status === 'Active' && state.periodKey === current.key ? state.spentMicros : 0;
    return [{ type: 'flotilla.budget.BudgetDefined', data: { budgetId, period, amountMicros, thresholds: [...thresholds], atExhaustion, spentMicros, periodEnd: current.end, definedBy: command.definedBy, definedAt: command.now } }];
  }
  if (state.status === 'None') {
    // Reserving against a budget nobody defined is denied rather than granted: no budget is not an unlimited one.
    return command.type === 'Reserve' ? [denied(command, command.budgetId, `no budget is defined for ${command.budgetId}`, 0)] : [];
  }
  switch (command.type) {
    case 'RecordSpend':
      return recordSpend(command, state);
    case 'Reserve':
      return reserve(command, state);
    case 'Commit': {
      const reservation = state.reservations[command.reservationId];
      if (reservation?.status !== 'reserved') return []; // unknown, or already settled: a repeat changes nothing
      const committed: BudgetEvent = { type: 'flotilla.budget.BudgetReservationCommitted', data: { budgetId: state.definition.budgetId, reservationId: command.reservationId, amountMicros: reservation.amountMicros, periodKey: reservation.periodKey, committedAt: command.now } };
      if (reservation.periodKey !== state.periodKey) return [committed];
      const spent = state.spentMicros + reservation.amountMicros;
      return [committed, ...crossings(state, spent, state.periodKey, command.now)];
    }
    case 'Release':
    case 'Expire': {
      const reservation = state.reservations[command.reservationId];
      if (reservation?.status !== 'reserved') return [];
      // An expiry timer that fires after the reservation was committed or released finds nothing to do (above).
      return [{ type: 'flotilla.budget.BudgetReservationReleased', data: { budgetId: state.definition.budgetId, reservationId: command.reservationId, amountMicros: reservation.amountMicros, reason: command.type === 'Expire' ? 'expired' : 'released', releasedAt: command.now } }];
    }
    default:
      return assertNever(command);
  }
}

function recordSpend(command: Extract<BudgetCommand, { type: 'RecordSpend' }>, state: Active): BudgetEvent[] {
  const period = periodAt(state.definition.period, command.at);
  const recorded: BudgetEvent = { type: 'flotilla.budget.BudgetSpendRecorded', data: { budgetId: state.definition.budgetId, costId: command.costId, amountMicros: command.amountMicros, periodKey: period.key, recordedAt: command.now } };
  // A cost of a period already closed is recorded, but counts towards no threshold of the current one.
  // Keys of one period kind sort as their periods do (2026-11-27, 2026-W48, 2026-11).
  if (period.key < state.periodKey) return [recorded];
  const spentBefore = period.key === state.periodKey ? state.spentMicros : 0;
  return [recorded, ...crossings({ ...state, crossed: period.key === state.periodKey ? state.crossed : [] }, spentBefore + command.amountMicros, period.key, command.now)];
}

function reserve(command: Extract<BudgetCommand, { type: 'Reserve' }>, state: Active): BudgetEvent[] {
  const existing = state.reservations[command.reservationId];
  if (existing) return []; // a repeated request: the first answer stands (it was published once)
  if (!Number.isSafeInteger(command.amountMicros) || command.amountMicros <= 0) return [denied(command, state.definition.budgetId, 'amount must be a positive whole number of micro-units', availableMicros(state))];
  if (command.expiresAt <= command.now) return [denied(command, state.definition.budgetId, 'the reservation expires before it starts', availableMicros(state))];
  const period = periodAt(state.definition.period, command.now);
  const current = period.key === state.periodKey ? state : { ...state, periodKey: period.key, spentMicros: 0, crossed: [] };
  const available = availableMicros(current);
  if (command.amountMicros > available) return [denied(command, state.definition.budgetId, `${command.amountMicros} µ requested, ${available} µ available in ${period.key}`, available)];
  return [
    {
      type: 'flotilla.budget.BudgetReserved',
      data: { budgetId: state.definition.budgetId, reservationId: command.reservationId, amountMicros: command.amountMicros, expiresAt: command.expiresAt, periodKey: period.key, availableMicros: available - command.amountMicros, reservedAt: command.now },
    },
  ];
}

function denied(command: Extract<BudgetCommand, { type: 'Reserve' }>, budgetId: string, reason: string, available: number): BudgetEvent {
  return { type: 'flotilla.budget.BudgetReservationDenied', data: { budgetId, reservationId: command.reservationId, amountMicros: command.amountMicros, reason, availableMicros: available, deniedAt: command.now } };
}

function crossings(state: Active, spentMicros: number, periodKey: string, now: number): BudgetEvent[] {
  const { budgetId, amountMicros, atExhaustion, period } = state.definition;
  const periodEnd = periodAt(period, now).end;
  const scope = budgetScopeOf(budgetId);
  return newlyCrossed(state.definition, spentMicros, state.crossed).flatMap((threshold): BudgetEvent[] => [
    { type: 'flotilla.budget.BudgetThresholdCrossed', data: { budgetId, threshold, periodKey, periodEnd, spentMicros, amountMicros, atExhaustion, crossedAt: now } },
    {
      type: 'flotilla.alert.AlertRaised',
      data: {
        // Stable per budget, threshold and period: a redelivered crossing is recognisably the same alert.
        alertId: `budget_threshold:${budgetId}:${periodKey}:${threshold}`,
        severity: threshold >= 100 ? 'critical' : threshold >= 90 ? 'warning' : 'info',
        kind: threshold >= 100 ? 'budget_exhausted' : 'budget_threshold',
        source: 'optimizer',
        customerId: scope?.kind === 'customer' ? scope.customerId : null,
        executionId: null,
        message: `budget ${budgetId} reached ${threshold} % of ${amountMicros} µ in ${periodKey} (${spentMicros} µ spent)${threshold >= 100 && atExhaustion !== 'alert' ? `: ${atExhaustion === 'hold_executions' ? 'new executions are held' : 'scale-ups are denied'} until ${new Date(periodEnd).toISOString()}` : ''}`,
        raisedAt: now,
      },
    },
  ]);
}

function evolve(state: BudgetState, event: BudgetEvent): BudgetState {
  switch (event.type) {
    case 'flotilla.budget.BudgetDefined': {
      const { budgetId, period, amountMicros, thresholds, atExhaustion } = event.data;
      const definition: BudgetDefinition = { budgetId, period: period as BudgetDefinition['period'], amountMicros, thresholds, atExhaustion: atExhaustion as BudgetDefinition['atExhaustion'] };
      // Redefining keeps what was spent and reserved: a new amount applies to the current period at
      // once, and a threshold the new amount puts back out of reach may be crossed again.
      return state.status === 'Active'
        ? { ...state, definition, crossed: state.crossed.filter((t) => thresholds.includes(t) && state.spentMicros * 100 >= t * amountMicros) }
        : { status: 'Active', definition, periodKey: periodAt(definition.period, event.data.definedAt).key, spentMicros: 0, crossed: [], reservations: {}, firstDefinedAt: event.data.definedAt };
    }
    case 'flotilla.alert.AlertRaised':
      return state;
    case 'flotilla.budget.BudgetSpendRecorded':
      return state.status === 'Active' ? addSpend(state, event.data.periodKey, event.data.amountMicros) : state;
    case 'flotilla.budget.BudgetThresholdCrossed':
      return state.status === 'Active' && state.periodKey === event.data.periodKey ? { ...state, crossed: [...state.crossed, event.data.threshold] } : state;
    case 'flotilla.budget.BudgetReserved':
      if (state.status !== 'Active') return state;
      return {
        ...rollTo(state, event.data.periodKey),
        reservations: { ...settledForgotten(state.reservations, event.data.reservedAt), [event.data.reservationId]: { amountMicros: event.data.amountMicros, status: 'reserved', expiresAt: event.data.expiresAt, periodKey: event.data.periodKey } },
      };
    case 'flotilla.budget.BudgetReservationDenied':
      if (state.status !== 'Active') return state;
      return { ...state, reservations: { ...settledForgotten(state.reservations, event.data.deniedAt), [event.data.reservationId]: { amountMicros: event.data.amountMicros, status: 'denied', expiresAt: event.data.deniedAt, periodKey: state.periodKey } } };
    case 'flotilla.budget.BudgetReservationCommitted': {
      if (state.status !== 'Active') return state;
      const reservation = state.reservations[event.data.reservationId];
      const spent = addSpend(state, event.data.periodKey, event.data.amountMicros);
      return { ...spent, reservations: { ...state.reservations, [event.data.reservationId]: { ...reservation, status: 'committed' } } };
    }
    case 'flotilla.budget.BudgetReservationReleased': {
      if (state.status !== 'Active') return state;
      const reservation = state.reservations[event.data.reservationId];
      return { ...state, reservations: { ...state.reservations, [event.data.reservationId]: { ...reservation, status: event.data.reason === 'expired' ? 'expired' : 'released' } } };
    }
    default:
      return assertNever(event, 'budget event');
  }
}

/**
 * How long a settled reservation (committed, released, expired, denied) is remembered past its expiry:
 * long enough that a request or settlement redelivered late still finds its first answer, short enough
 * that a busy budget's row does not grow with every reservation it ever answered.
 */
export const SETTLED_RESERVATIONS_KEPT_MS = 7 * 86_400_000;

function settledForgotten(reservations: Readonly<Record<string, Reservation>>, now: number): Record<string, Reservation> {
  const kept: Record<string, Reservation> = {};
  for (const [id, r] of Object.entries(reservations)) if (r.status === 'reserved' || r.expiresAt > now - SETTLED_RESERVATIONS_KEPT_MS) kept[id] = r;
  return kept;
}

/** The state with `amount` spent in `periodKey`: the current period's spend, a newer period's first, or an older one's (ignored). */
function addSpend(state: Active, periodKey: string, amount: number): Active {
  if (periodKey === state.periodKey) return { ...state, spentMicros: state.spentMicros + amount };
  if (periodKey > state.periodKey) return { ...state, periodKey, spentMicros: amount, crossed: [] };
  return state;
}

function rollTo(state: Active, periodKey: string): Active {
  return periodKey > state.periodKey ? { ...state, periodKey, spentMicros: 0, crossed: [] } : state;
}

export const budgetDecider: Decider<BudgetCommand, BudgetEvent, BudgetState> = { initialState: { status: 'None' }, decide, evolve };
