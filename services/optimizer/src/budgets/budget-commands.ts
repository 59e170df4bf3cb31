import { DurableTimers, type NewEvent, type TimerChange } from '@flotilla/event-store';
import { currentTraceContext } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import type { Transaction } from '@flotilla/event-store';
import { v7 as uuidv7 } from 'uuid';
import type { BudgetState } from './domain/budget';
import { budgetDecider, isStoredBudgetEvent, type BudgetCommand } from './domain/budget.decider';
import type { BudgetRows, StoredBudget } from './ports';

/** What an expiry timer carries: the reservation it releases when nobody committed or released it in time. */
export interface ReservationExpiry {
  readonly budgetId: string;
  readonly reservationId: string;
}

export interface BudgetChange {
  readonly budgetId: string;
  readonly command: BudgetCommand;
  readonly causationId: string | null;
  readonly traceparent: string | null;
}

export function budgetStreamId(budgetId: string): string {
  return `Budget-${budgetId}`;
}

export function expiryTimerId(budgetId: string, reservationId: string): string {
  return `reservation-expiry:${budgetId}:${reservationId}`;
}

/**
 * The one way to change a budget. Its state is its row, locked for the transaction that decides on
 * it, like the orchestrator's circuits: a cost of its scope moves the row in the transaction that
 * records the cost, and only what says something (a definition, a threshold crossed, a reservation's
 * answers) is appended to its stream and published. A reservation's expiry is a durable timer in the
 * same transaction as the reservation, cancelled by its commit or release.
 */
export class BudgetCommands {
  readonly timers: DurableTimers<ReservationExpiry>;

  constructor(
    private readonly platform: Platform,
    private readonly store: BudgetRows,
  ) {
    this.timers = new DurableTimers<ReservationExpiry>(platform.pool, platform.store.schema);
  }

  /** Applies `changes` in the caller's transaction, in order; the state of each budget after them. */
  async within(client: Transaction, changes: readonly BudgetChange[]): Promise<Map<string, BudgetState>> {
    const after = new Map<string, BudgetState>();
    if (changes.length === 0) return after;
    // A budget that does not exist gets a row only when a command about it says something (a
    // definition, a denied reservation); the spend of scopes without a budget moves nothing.
    const created = [...new Set(changes.filter((c) => c.command.type !== 'RecordSpend').map((c) => c.budgetId))];
    await this.store.ensure(client, created);
    const current = new Map<string, StoredBudget>(await this.store.lock(client, changes.map((c) => c.budgetId)));
    const changed = new Set<string>();
    const appends: Array<{ streamId: string; expectedVersion: number; events: NewEvent[] }> = [];
    const timers: TimerChange<ReservationExpiry>[] = [];
    for (const { budgetId, command, causationId, traceparent } of changes) {
      const budget = current.get(budgetId) ?? { state: budgetDecider.initialState, version: 0 };
      const decided = budgetDecider.decide(command, budget.state);
      const state = decided.reduce(budgetDecider.evolve, budget.state);
      after.set(budgetId, state);
      if (decided.length === 0) continue;
      const streamId = budgetStreamId(budgetId);
      const stored = decided.filter(isStoredBudgetEvent).map(
        (event): NewEvent => ({ eventId: uuidv7(), eventType: event.type, data: event.data, metadata: { occurredAt: command.now, correlationId: budgetId, causationId, traceparent, tracestate: null } }),
      );
      appends.push({ streamId, expectedVersion: budget.version, events: stored });
      for (const event of decided) {
        if (event.type === 'flotilla.budget.BudgetReserved') {
          const { reservationId, expiresAt } = event.data;
          timers.push({ streamId, cancelAll: false, cancel: [], schedule: [{ timerId: expiryTimerId(budgetId, reservationId), streamId, dueAt: expiresAt, payload: { budgetId, reservationId } }], traceparent });
        }
        if (event.type === 'flotilla.budget.BudgetReservationCommitted' || event.type === 'flotilla.budget.BudgetReservationReleased') {
          timers.push({ streamId, cancelAll: false, cancel: [expiryTimerId(budgetId, event.data.reservationId)], schedule: [], traceparent });
        }
      }
      current.set(budgetId, { state, version: budget.version + stored.length });
      changed.add(budgetId);
    }
    await this.platform.store.record(client, appends, this.platform.route);
    await this.timers.applyChanges(client, timers);
    await this.store.save(client, [...changed].map((budgetId) => ({ budgetId, ...current.get(budgetId)! })));
    return after;
  }

  /**
   * One command in a transaction of its own; with `inboxId`, applied once however often it is
   * delivered (null when it had been already). The state of the budget after it.
   */
  async apply(budgetId: string, command: BudgetCommand, cause: { readonly causationId: string | null; readonly inboxId?: string } = { causationId: null }): Promise<BudgetState | null> {
    const { traceparent } = currentTraceContext();
    const after = await this.platform.store.withTransaction(async (client) => {
      if (cause.inboxId && !(await this.platform.store.recordInbox(client, 'optimizer.budgets', cause.inboxId))) return null;
      return (await this.within(client, [{ budgetId, command, causationId: cause.causationId, traceparent }])).get(budgetId)!;
    });
    this.platform.relay.notifyCommitted();
    return after;
  }
}
