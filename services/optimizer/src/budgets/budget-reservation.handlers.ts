import { budgetScopeOf, type BudgetReservationCommitRequested, type BudgetReservationReleaseRequested, type BudgetReservationRequested } from '@flotilla/contracts';
import { ValidationError } from '@flotilla/domain';
import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { BUDGET_COMMANDS } from '../optimizer.constants';
import type { BudgetCommands } from './budget-commands';

/**
 * The budget guard's side of the scale saga's protocol: reserve, commit, release, each applied once
 * per event (inbox). A request the protocol can answer (too much, no budget, already expired) gets a
 * BudgetReservationDenied; one that names no budget at all is malformed, and goes to the dead-letter
 * topic with its cause.
 */
@Controller()
export class BudgetReservationHandlers {
  constructor(@Inject(BUDGET_COMMANDS) private readonly budgets: BudgetCommands) {}

  @EventPattern('flotilla.budget.BudgetReservationRequested')
  async onRequested(@Payload() event: ConsumedEvent<BudgetReservationRequested>): Promise<void> {
    const r = event.envelope.payload;
    await this.budgets.apply(
      namedBudget(r),
      { type: 'Reserve', budgetId: r.budgetId, reservationId: reservationIdOf(r), amountMicros: r.amountMicros, expiresAt: r.expiresAt, now: Date.now() },
      { causationId: event.envelope.eventId, inboxId: event.envelope.eventId },
    );
  }

  @EventPattern('flotilla.budget.BudgetReservationCommitRequested')
  async onCommitRequested(@Payload() event: ConsumedEvent<BudgetReservationCommitRequested>): Promise<void> {
    const r = event.envelope.payload;
    await this.budgets.apply(namedBudget(r), { type: 'Commit', reservationId: reservationIdOf(r), now: Date.now() }, { causationId: event.envelope.eventId, inboxId: event.envelope.eventId });
  }

  @EventPattern('flotilla.budget.BudgetReservationReleaseRequested')
  async onReleaseRequested(@Payload() event: ConsumedEvent<BudgetReservationReleaseRequested>): Promise<void> {
    const r = event.envelope.payload;
    await this.budgets.apply(namedBudget(r), { type: 'Release', reservationId: reservationIdOf(r), now: Date.now() }, { causationId: event.envelope.eventId, inboxId: event.envelope.eventId });
  }
}

function namedBudget(request: { readonly budgetId: string }): string {
  if (!budgetScopeOf(request.budgetId)) throw ValidationError.of('budgetId', `"${request.budgetId}" names no budget: it must be customer:<customerId>, pool:<agentType> or global`);
  return request.budgetId;
}

function reservationIdOf(request: { readonly reservationId: string }): string {
  if (request.reservationId.trim() === '') throw ValidationError.of('reservationId', 'must not be empty: it is what makes each command idempotent');
  return request.reservationId;
}
