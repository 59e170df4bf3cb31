import type { ResourceUsage, TaskDispatched } from '@flotilla/contracts';
import { TOPICS } from '@flotilla/contracts';
import { handleCommand } from '@flotilla/event-store';
import type { ConsumedEvent } from '@flotilla/messaging';
import { PLATFORM, type Platform } from '@flotilla/service-kit';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import * as os from 'node:os';
import pLimit from 'p-limit';
import { taskAttemptStreamId, type TaskAttemptCommand, type TaskAttemptEvent } from '../domain/task-attempt/task-attempt';
import { taskAttemptDecider } from '../domain/task-attempt/task-attempt.decider';
import type { ExecutorOutcome, TaskExecutor } from '../infrastructure/executors/task-executor';
import { AGENT_POOL_SETTINGS, type AgentPoolSettings } from '../agent-pool.constants';

/**
 * Runs dispatched tasks. Each agent type has its own bulkhead (a concurrency limit), so a pool full of
 * slow tasks never delays another pool. The result and the inbox record commit together, so a
 * redelivered dispatch after a completed attempt changes nothing.
 */
@Controller()
export class TaskRunnerHandlers {
  private readonly bulkheads = new Map<string, ReturnType<typeof pLimit>>();
  private readonly workerId = `${os.hostname()}-${process.pid}`;

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENT_POOL_SETTINGS) private readonly settings: AgentPoolSettings,
  ) {}

  @EventPattern('flotilla.task.TaskDispatched')
  async onTaskDispatched(@Payload() event: ConsumedEvent<TaskDispatched>): Promise<void> {
    const dispatch = event.envelope.payload;
    const started = await this.apply(dispatch, event, { type: 'StartTask', dispatch, workerId: this.workerId, now: Date.now() }, false);
    if (started.status === 'applied' && started.state.status !== 'Running') return; // finished before a redelivery

    const { outcome, usage } = await this.bulkhead(dispatch.agentType)(() => this.execute(dispatch));
    const command: TaskAttemptCommand = outcome.ok
      ? { type: 'CompleteTask', output: outcome.output, usage, now: Date.now() }
      : { type: 'FailTask', errorKind: outcome.errorKind, reason: outcome.reason, usage, now: Date.now() };
    await this.apply(dispatch, event, command, true);
  }

  private async execute(dispatch: TaskDispatched): Promise<{ outcome: ExecutorOutcome; usage: ResourceUsage }> {
    const executor: TaskExecutor = this.settings.executorFor(dispatch.agentType);
    const startedAt = performance.now();
    const cpuBefore = process.cpuUsage();
    let outcome: ExecutorOutcome;
    try {
      outcome = await executor.run(dispatch, AbortSignal.timeout(this.settings.taskTimeoutMs));
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      outcome = { ok: false, errorKind: timedOut ? 'timeout' : 'executor_error', reason: (error as Error).message };
    }
    const cpu = process.cpuUsage(cpuBefore);
    return {
      outcome,
      usage: { cpuTimeMs: (cpu.user + cpu.system) / 1000, peakRssBytes: process.memoryUsage().rss, wallTimeMs: performance.now() - startedAt },
    };
  }

  private bulkhead(agentType: string) {
    let limit = this.bulkheads.get(agentType);
    if (!limit) {
      limit = pLimit(this.settings.concurrencyPerPool);
      this.bulkheads.set(agentType, limit);
    }
    return limit;
  }

  private apply(dispatch: TaskDispatched, event: ConsumedEvent, command: TaskAttemptCommand, recordInInbox: boolean) {
    return handleCommand({
      store: this.platform.store,
      decider: taskAttemptDecider,
      streamId: taskAttemptStreamId(dispatch),
      command,
      route: (_: TaskAttemptEvent) => [{ topic: this.platform.topic(TOPICS.taskEvents.name), key: dispatch.executionId }],
      correlationId: dispatch.executionId,
      causationId: event.envelope.eventId,
      inbox: recordInInbox ? { consumer: 'agent-pool.tasks', eventId: event.envelope.eventId } : undefined,
    });
  }
}
