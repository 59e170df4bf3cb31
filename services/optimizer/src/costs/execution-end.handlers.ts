import type { ExecutionCancelled, ExecutionCompleted, ExecutionFailed, StartedAttempt } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EXECUTION_COSTS } from '../optimizer.constants';
import { attemptKey, type ExecutionEnd, type ExecutionOutcome } from './domain/execution-cost';
import type { ExecutionCostCommands } from './execution-cost-commands';

/**
 * Execution endings make costs final: once the ending is recorded and every attempt it lists is in
 * the ledger (now, or when the last of them is costed), ExecutionCostFinalized; if some never report,
 * when the grace period runs out. Each ending is applied once (inbox).
 */
@Controller()
export class ExecutionEndHandlers {
  constructor(@Inject(EXECUTION_COSTS) private readonly costs: ExecutionCostCommands) {}

  @EventPattern('flotilla.execution.ExecutionCompleted')
  onCompleted(@Payload() event: ConsumedEvent<ExecutionCompleted>): Promise<void> {
    return this.ended(event, 'completed', event.envelope.payload.completedAt);
  }

  @EventPattern('flotilla.execution.ExecutionFailed')
  onFailed(@Payload() event: ConsumedEvent<ExecutionFailed>): Promise<void> {
    return this.ended(event, 'failed', event.envelope.payload.failedAt);
  }

  @EventPattern('flotilla.execution.ExecutionCancelled')
  onCancelled(@Payload() event: ConsumedEvent<ExecutionCancelled>): Promise<void> {
    return this.ended(event, 'cancelled', event.envelope.payload.cancelledAt);
  }

  private async ended(event: ConsumedEvent<ExecutionCompleted | ExecutionFailed | ExecutionCancelled>, outcome: ExecutionOutcome, endedAt: number): Promise<void> {
    const e = event.envelope.payload;
    // Decoded with the schema it was written with: an ending written before the list existed has none.
    const started = (e as { startedAttempts?: readonly StartedAttempt[] }).startedAttempts;
    const end: ExecutionEnd = { executionId: e.executionId, customerId: e.customerId, outcome, endedAt, startedAttempts: started ? started.map(attemptKey) : null };
    await this.costs.recordEnd(end, { eventId: event.envelope.eventId });
  }
}
