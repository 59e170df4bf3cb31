import type {
  ExecutionAccepted,
  ExecutionAdmitted,
  ExecutionCancelled,
  ExecutionCompleted,
  ExecutionFailed,
  ExecutionRejected,
  TaskCompleted,
  TaskFailed,
  TaskRetryScheduled,
  TaskSkipped,
  TaskStarted,
  TaskTimedOut,
} from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { PLATFORM, type Platform } from '@flotilla/service-kit';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { PoolClient } from 'pg';
import { EXECUTIONS_REPOSITORY, READ_MODEL_CHANGES } from '../projection.constants';
import { project } from './projector';
import type { ChangeFeed } from './change-feed';
import type { ExecutionsRepository } from '../infrastructure/executions.repository';

const iso = (ms: number) => new Date(ms).toISOString();

/** Folds lifecycle and task events into the executions read model; each event applies exactly once. */
@Controller()
export class ExecutionProjectionHandlers {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(READ_MODEL_CHANGES) private readonly feed: ChangeFeed,
    @Inject(EXECUTIONS_REPOSITORY) private readonly executions: ExecutionsRepository,
  ) {}

  @EventPattern('flotilla.execution.ExecutionAccepted')
  onAccepted(@Payload() event: ConsumedEvent<ExecutionAccepted>) {
    const e = event.envelope.payload;
    const tasks = Object.fromEntries(
      e.tasks.map((t) => [t.taskId, { taskId: t.taskId, agentType: t.agentType, status: 'pending' as const, attempt: 0 }]),
    );
    return this.project(event, (c) =>
      this.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, kind: e.kind, status: 'queued', tasks, acceptedAt: e.acceptedAt, eventAt: e.acceptedAt }),
    );
  }

  @EventPattern('flotilla.execution.ExecutionAdmitted')
  onAdmitted(@Payload() event: ConsumedEvent<ExecutionAdmitted>) {
    const e = event.envelope.payload;
    return this.project(event, async (c) => {
      await this.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, status: 'running', eventAt: e.admittedAt });
      await this.executions.markAdmitted(c, e.executionId, e.admittedAt);
    });
  }

  @EventPattern('flotilla.execution.ExecutionRejected')
  onRejected(@Payload() event: ConsumedEvent<ExecutionRejected>) {
    const e = event.envelope.payload;
    return this.project(event, (c) =>
      this.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, status: 'rejected', reasons: e.reasons, finishedAt: e.rejectedAt, eventAt: e.rejectedAt }),
    );
  }

  @EventPattern('flotilla.execution.ExecutionCompleted')
  onCompleted(@Payload() event: ConsumedEvent<ExecutionCompleted>) {
    const e = event.envelope.payload;
    return this.project(event, (c) =>
      this.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, status: 'completed', finishedAt: e.completedAt, durationMs: e.durationMs, eventAt: e.completedAt }),
    );
  }

  @EventPattern('flotilla.execution.ExecutionFailed')
  onFailed(@Payload() event: ConsumedEvent<ExecutionFailed>) {
    const e = event.envelope.payload;
    return this.project(event, (c) =>
      this.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, status: 'failed', reasons: [e.reason], finishedAt: e.failedAt, eventAt: e.failedAt }),
    );
  }

  @EventPattern('flotilla.task.TaskStarted')
  onTaskStarted(@Payload() event: ConsumedEvent<TaskStarted>) {
    const e = event.envelope.payload;
    return this.project(event, (c) =>
      this.executions.updateTask(c, e.executionId, e.taskId, { agentType: e.agentType, status: 'running', attempt: e.attempt, workerId: e.workerId, startedAt: iso(e.startedAt) }, e.startedAt),
    );
  }

  @EventPattern('flotilla.task.TaskCompleted')
  onTaskCompleted(@Payload() event: ConsumedEvent<TaskCompleted>) {
    const e = event.envelope.payload;
    return this.project(event, (c) =>
      this.executions.updateTask(c, e.executionId, e.taskId, { status: 'completed', attempt: e.attempt, finishedAt: iso(e.completedAt), usage: e.usage, reason: null }, e.completedAt),
    );
  }

  @EventPattern('flotilla.task.TaskFailed')
  onTaskFailed(@Payload() event: ConsumedEvent<TaskFailed>) {
    const e = event.envelope.payload;
    return this.project(event, (c) =>
      this.executions.updateTask(c, e.executionId, e.taskId, { status: 'failed', attempt: e.attempt, finishedAt: iso(e.failedAt), usage: e.usage, reason: `${e.errorKind}: ${e.reason}` }, e.failedAt),
    );
  }

  @EventPattern('flotilla.execution.ExecutionCancelled')
  onCancelled(@Payload() event: ConsumedEvent<ExecutionCancelled>) {
    const e = event.envelope.payload;
    return this.project(event, (c) =>
      this.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, status: 'cancelled', reasons: [e.reason], finishedAt: e.cancelledAt, eventAt: e.cancelledAt }),
    );
  }

  @EventPattern('flotilla.execution.TaskRetryScheduled')
  onTaskRetryScheduled(@Payload() event: ConsumedEvent<TaskRetryScheduled>) {
    const e = event.envelope.payload;
    const at = event.envelope.occurredAt;
    return this.project(event, (c) =>
      this.executions.updateTask(c, e.executionId, e.taskId, { status: 'retrying', attempt: e.failedAttempt, reason: `${e.errorKind}: ${e.reason}`, nextAttemptAt: iso(e.retryAt) }, at),
    );
  }

  @EventPattern('flotilla.execution.TaskTimedOut')
  onTaskTimedOut(@Payload() event: ConsumedEvent<TaskTimedOut>) {
    const e = event.envelope.payload;
    return this.project(event, (c) => this.executions.updateTask(c, e.executionId, e.taskId, { reason: `${e.timeout.replace(/_/g, '-')} timeout of attempt ${e.attempt}` }, e.timedOutAt));
  }

  @EventPattern('flotilla.execution.TaskSkipped')
  onTaskSkipped(@Payload() event: ConsumedEvent<TaskSkipped>) {
    const e = event.envelope.payload;
    return this.project(event, (c) => this.executions.updateTask(c, e.executionId, e.taskId, { status: 'skipped', reason: e.reason }, e.skippedAt));
  }

  private project(event: ConsumedEvent, change: (client: PoolClient) => Promise<void>): Promise<void> {
    return project(this.platform, this.feed, event, change);
  }
}
