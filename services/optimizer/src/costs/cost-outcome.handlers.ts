import type { TaskCompleted, TaskFailed } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { COST_LEDGER } from '../optimizer.constants';
import type { CostLedger } from './cost-ledger';

/** Task outcomes become ledger entries: what each ended attempt cost, completed or failed. */
@Controller()
export class CostOutcomeHandlers {
  constructor(@Inject(COST_LEDGER) private readonly ledger: CostLedger) {}

  @EventPattern('flotilla.task.TaskCompleted')
  async onTaskCompleted(@Payload() event: ConsumedEvent<TaskCompleted>): Promise<void> {
    const r = event.envelope.payload;
    await this.ledger.record(
      { executionId: r.executionId, customerId: r.customerId, taskId: r.taskId, attempt: r.attempt, agentType: r.agentType, outcome: 'completed', usage: r.usage, output: r.output, endedAt: r.completedAt },
      { eventId: event.envelope.eventId },
    );
  }

  @EventPattern('flotilla.task.TaskFailed')
  async onTaskFailed(@Payload() event: ConsumedEvent<TaskFailed>): Promise<void> {
    const r = event.envelope.payload;
    await this.ledger.record(
      { executionId: r.executionId, customerId: r.customerId, taskId: r.taskId, attempt: r.attempt, agentType: r.agentType, outcome: 'failed', usage: r.usage, output: {}, endedAt: r.failedAt },
      { eventId: event.envelope.eventId },
    );
  }
}
