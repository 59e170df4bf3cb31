import type { ExecutionRequested, TaskCompleted, TaskFailed } from '@flotilla/contracts';
import { handleCommand } from '@flotilla/event-store';
import type { ConsumedEvent } from '@flotilla/messaging';
import { PLATFORM, type Platform } from '@flotilla/service-kit';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { executionStreamId, type ExecutionCommand } from '../domain/execution/execution';
import { executionDecider } from '../domain/execution/execution.decider';
import { routeExecutionEvent } from '../infrastructure/execution-routing';

/** Applies execution requests and task results to Execution aggregates, exactly once per event. */
@Controller()
export class ExecutionEventHandlers {
  private readonly route: ReturnType<typeof routeExecutionEvent>;

  constructor(@Inject(PLATFORM) private readonly platform: Platform) {
    this.route = routeExecutionEvent(platform);
  }

  @EventPattern('flotilla.execution.ExecutionRequested')
  async onExecutionRequested(@Payload() event: ConsumedEvent<ExecutionRequested>): Promise<void> {
    const request = event.envelope.payload;
    // A request without an id still gets its own stream, so that its rejection is recorded and published.
    const executionId = request.executionId.trim() || `invalid-${event.envelope.eventId}`;
    await this.apply(executionId, event, { type: 'RequestExecution', request: { ...request, executionId }, now: Date.now() });
  }

  @EventPattern('flotilla.task.TaskCompleted')
  async onTaskCompleted(@Payload() event: ConsumedEvent<TaskCompleted>): Promise<void> {
    const { executionId, taskId, attempt } = event.envelope.payload;
    await this.apply(executionId, event, { type: 'RecordTaskCompleted', taskId, attempt, now: Date.now() });
  }

  @EventPattern('flotilla.task.TaskFailed')
  async onTaskFailed(@Payload() event: ConsumedEvent<TaskFailed>): Promise<void> {
    const { executionId, taskId, attempt, reason, errorKind } = event.envelope.payload;
    await this.apply(executionId, event, { type: 'RecordTaskFailed', taskId, attempt, reason: `${errorKind}: ${reason}`, now: Date.now() });
  }

  private async apply(executionId: string, event: ConsumedEvent, command: ExecutionCommand): Promise<void> {
    const result = await handleCommand({
      store: this.platform.store,
      decider: executionDecider,
      streamId: executionStreamId(executionId),
      command,
      route: this.route,
      correlationId: executionId,
      causationId: event.envelope.eventId,
      inbox: { consumer: 'orchestrator.executions', eventId: event.envelope.eventId },
    });
    if (result.status === 'duplicate') this.platform.logger.debug({ eventId: event.envelope.eventId }, 'duplicate event dropped by the inbox');
  }
}
