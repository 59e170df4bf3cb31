import type { AdmissionCapacityChangeRequested, ExecutionCancelled, ExecutionCompleted, ExecutionFailed, ExecutionRejected } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { capacityProblem } from './domain/capacity';
import type { ExecutionVerdict } from './domain/customer-circuit';
import type { ExecutionSettings } from '../execution/domain/policies';
import { ADMISSION_COMMANDS, EXECUTION_SETTINGS } from '../orchestrator.constants';
import type { AdmissionCommands } from './admission-commands';

/** A capacity command that can never be applied: dead-lettered at once with the reason, not retried. */
export class InvalidCapacityCommand extends Error {
  readonly retriable = false;
  readonly code = 'INVALID_CAPACITY';
}

/**
 * Feeds the customers' circuit breakers with how their executions ended, and applies runtime
 * capacity changes; each consumed event exactly once (inbox).
 */
@Controller()
export class AdmissionEventHandlers {
  constructor(
    @Inject(ADMISSION_COMMANDS) private readonly admission: AdmissionCommands,
    @Inject(EXECUTION_SETTINGS) private readonly settings: ExecutionSettings,
  ) {}

  @EventPattern('flotilla.execution.ExecutionCompleted')
  async onCompleted(@Payload() event: ConsumedEvent<ExecutionCompleted>): Promise<void> {
    await this.record(event, event.envelope.payload.customerId, 'succeeded');
  }

  @EventPattern('flotilla.execution.ExecutionFailed')
  async onFailed(@Payload() event: ConsumedEvent<ExecutionFailed>): Promise<void> {
    await this.record(event, event.envelope.payload.customerId, 'failed');
  }

  @EventPattern('flotilla.execution.ExecutionCancelled')
  async onCancelled(@Payload() event: ConsumedEvent<ExecutionCancelled>): Promise<void> {
    await this.record(event, event.envelope.payload.customerId, 'void');
  }

  @EventPattern('flotilla.execution.ExecutionRejected')
  async onRejected(@Payload() event: ConsumedEvent<ExecutionRejected>): Promise<void> {
    const customerId = event.envelope.payload.customerId;
    if (customerId) await this.record(event, customerId, 'void');
  }

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

  private async record(event: ConsumedEvent<{ executionId: string }>, customerId: string, verdict: ExecutionVerdict): Promise<void> {
    await this.admission.circuit(
      { type: 'RecordExecutionOutcome', customerId, executionId: event.envelope.payload.executionId, verdict, policy: this.settings.admission.circuitBreaker, now: Date.now() },
      event.envelope.eventId,
    );
  }
}
