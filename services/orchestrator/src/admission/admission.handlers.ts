import type { AdmissionCapacityChangeRequested, BudgetDefined, BudgetThresholdCrossed } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { budgetHoldChange } from './domain/budget-hold';
import { capacityProblem } from './domain/capacity';
import type { ExecutionSettings } from '../execution/domain/policies';
import { ADMISSION_COMMANDS, EXECUTION_SETTINGS } from '../orchestrator.constants';
import type { AdmissionCommands } from './admission-commands';

/** A capacity command that can never be applied: dead-lettered at once with the reason, not retried. */
export class InvalidCapacityCommand extends Error {
  readonly retriable = false;
  readonly code = 'INVALID_CAPACITY';
}

/**
 * Applies runtime capacity changes, each consumed event exactly once (inbox). (How executions end
 * reaches the customers' circuits in the very transaction that ends them: see ExecutionCommands.)
 */
@Controller()
export class AdmissionEventHandlers {
  constructor(
    @Inject(ADMISSION_COMMANDS) private readonly admission: AdmissionCommands,
    @Inject(EXECUTION_SETTINGS) private readonly settings: ExecutionSettings,
  ) {}

  @EventPattern('flotilla.admission.AdmissionCapacityChangeRequested')
  async onCapacityChangeRequested(@Payload() event: ConsumedEvent<AdmissionCapacityChangeRequested>): Promise<void> {
    const { requestId, capacity, reason, requestedBy } = event.envelope.payload;
    const problem = capacityProblem(capacity);
    if (problem) throw new InvalidCapacityCommand(`capacity change ${requestId} refused: ${problem}`);
    await this.admission.changeCapacity(
      { type: 'ChangeCapacity', requestId, capacity, reason: [reason, requestedBy && `requested by ${requestedBy}`].filter(Boolean).join(', '), defaultCapacity: this.settings.admission.capacity, now: Date.now() },
      event.envelope.eventId,
    );
  }

  /** An exhausted customer budget that holds executions (the optimizer's decision), and its lifting. Upserts: a redelivery changes nothing. */
  @EventPattern('flotilla.budget.BudgetThresholdCrossed')
  async onBudgetThresholdCrossed(@Payload() event: ConsumedEvent<BudgetThresholdCrossed>): Promise<void> {
    const change = budgetHoldChange({ type: 'flotilla.budget.BudgetThresholdCrossed', data: event.envelope.payload });
    if (change) await this.admission.applyBudgetHold(change);
  }

  @EventPattern('flotilla.budget.BudgetDefined')
  async onBudgetDefined(@Payload() event: ConsumedEvent<BudgetDefined>): Promise<void> {
    const change = budgetHoldChange({ type: 'flotilla.budget.BudgetDefined', data: event.envelope.payload });
    if (change) await this.admission.applyBudgetHold(change);
  }
}
