import type { ExecutionRequested, TaskCompleted, TaskFailed, TaskHeartbeat, TaskStarted } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { timeoutsFor } from './domain/policies';
import { EXECUTION_COMMANDS } from '../orchestrator.constants';
import type { ExecutionCommands } from './execution-commands';
import { executionTimerId } from './ports';

/** Applies execution requests and task reports to Execution aggregates, exactly once per event. */
@Controller()
export class ExecutionEventHandlers {
  constructor(@Inject(EXECUTION_COMMANDS) private readonly executions: ExecutionCommands) {}

  @EventPattern('flotilla.execution.ExecutionRequested')
  async onExecutionRequested(@Payload() event: ConsumedEvent<ExecutionRequested>): Promise<void> {
    const request = event.envelope.payload;
    // A request without an id still gets its own stream, so that its rejection is recorded and published.
    const executionId = request.executionId.trim() || `invalid-${event.envelope.eventId}`;
    await this.apply(executionId, event, { type: 'RequestExecution', request: { ...request, executionId }, settings: this.executions.settings, now: Date.now() });
  }

  @EventPattern('flotilla.task.TaskStarted')
  async onTaskStarted(@Payload() event: ConsumedEvent<TaskStarted>): Promise<void> {
    const { executionId, taskId, attempt, workerId, startedAt } = event.envelope.payload;
    await this.apply(executionId, event, { type: 'RecordTaskStarted', taskId, attempt, workerId, now: startedAt });
  }

  @EventPattern('flotilla.task.TaskCompleted')
  async onTaskCompleted(@Payload() event: ConsumedEvent<TaskCompleted>): Promise<void> {
    const { executionId, taskId, attempt } = event.envelope.payload;
    await this.apply(executionId, event, { type: 'RecordTaskCompleted', taskId, attempt, now: Date.now() });
  }

  @EventPattern('flotilla.task.TaskFailed')
  async onTaskFailed(@Payload() event: ConsumedEvent<TaskFailed>): Promise<void> {
    const { executionId, taskId, attempt, reason, errorKind } = event.envelope.payload;
    await this.apply(executionId, event, { type: 'RecordTaskFailed', taskId, attempt, errorKind, reason, settings: this.executions.settings, now: Date.now() });
  }

  /** Heartbeats change no aggregate: they only push the attempt's heartbeat deadline forward. */
  @EventPattern('flotilla.task.TaskHeartbeat')
  async onTaskHeartbeat(@Payload() event: ConsumedEvent<TaskHeartbeat>): Promise<void> {
    const { executionId, taskId, attempt, agentType, at } = event.envelope.payload;
    const { heartbeatMs } = timeoutsFor(this.executions.settings, agentType);
    if (heartbeatMs > 0) await this.executions.timers.postpone(executionTimerId(executionId, { taskId, attempt, kind: 'heartbeat' }), at + heartbeatMs);
  }

  private async apply(executionId: string, event: ConsumedEvent, command: Parameters<ExecutionCommands['apply']>[1]): Promise<void> {
    await this.executions.apply(executionId, command, { causationId: event.envelope.eventId, inboxId: event.envelope.eventId });
  }
}
