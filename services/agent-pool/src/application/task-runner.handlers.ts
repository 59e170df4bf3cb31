import type { ResourceUsage, TaskCancellationRequested, TaskDispatched } from '@flotilla/contracts';
import { TOPICS } from '@flotilla/contracts';
import { handleCommand } from '@flotilla/event-store';
import { currentTraceContext, Gauge, Histogram } from '@flotilla/observability';
import type { ConsumedEvent } from '@flotilla/messaging';
import { PLATFORM, type Platform } from '@flotilla/service-kit';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import * as os from 'node:os';
import pLimit from 'p-limit';
import { v7 as uuidv7 } from 'uuid';
import { taskAttemptStreamId, type TaskAttemptCommand, type TaskAttemptEvent } from '../domain/task-attempt/task-attempt';
import { taskAttemptDecider } from '../domain/task-attempt/task-attempt.decider';
import type { ExecutorOutcome, TaskExecutor } from '../infrastructure/executors/task-executor';
import { AGENT_POOL_SETTINGS, RUNNING_ATTEMPTS, type AgentPoolSettings } from '../agent-pool.constants';
import { CancelledError, RunningAttempts } from './running-attempts';

/**
 * Runs dispatched tasks. Each agent type has its own bulkhead (a concurrency limit), so a pool full of
 * slow tasks never delays another pool. The result and the inbox record commit together, so a
 * redelivered dispatch after a completed attempt changes nothing.
 */
@Controller()
export class TaskRunnerHandlers {
  private readonly bulkheads = new Map<string, ReturnType<typeof pLimit>>();
  private readonly workerId = `${os.hostname()}-${process.pid}`;
  private readonly taskDurations: Histogram;
  private readonly inFlight: Gauge;

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENT_POOL_SETTINGS) private readonly settings: AgentPoolSettings,
    @Inject(RUNNING_ATTEMPTS) private readonly running: RunningAttempts,
  ) {
    this.taskDurations = new Histogram({
      name: 'agent_task_duration_seconds',
      help: 'Wall time of task attempts by agent type and outcome',
      labelNames: ['agent_type', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [platform.metrics],
    });
    this.inFlight = new Gauge({ name: 'agent_task_in_flight', help: 'Attempts running now, by agent type', labelNames: ['agent_type'], registers: [platform.metrics] });
  }

  @EventPattern('flotilla.task.TaskDispatched')
  async onTaskDispatched(@Payload() event: ConsumedEvent<TaskDispatched>): Promise<void> {
    const dispatch = event.envelope.payload;
    const started = await this.apply(dispatch, event, { type: 'StartTask', dispatch, workerId: this.workerId, now: Date.now() }, false);
    if (started.status === 'applied' && started.state.status !== 'Running') return; // finished before a redelivery

    const key = RunningAttempts.key(dispatch.executionId, dispatch.taskId, dispatch.attempt);
    const controller = this.running.register(key);
    let outcome: ExecutorOutcome;
    let usage: ResourceUsage;
    try {
      ({ outcome, usage } = await this.bulkhead(dispatch.agentType)(async () => {
        this.inFlight.inc({ agent_type: dispatch.agentType });
        try {
          return await this.execute(dispatch, controller.signal);
        } finally {
          this.inFlight.dec({ agent_type: dispatch.agentType });
        }
      }));
    } finally {
      this.running.release(key);
    }
    this.taskDurations.observe({ agent_type: dispatch.agentType, outcome: outcome.ok ? 'completed' : outcome.errorKind }, usage.wallTimeMs / 1000);
    const command: TaskAttemptCommand = outcome.ok
      ? { type: 'CompleteTask', output: outcome.output, usage, now: Date.now() }
      : { type: 'FailTask', errorKind: outcome.errorKind, reason: outcome.reason, usage, now: Date.now() };
    await this.apply(dispatch, event, command, true);
  }

  /** Tells the attempt to stop if it runs in this process (cancelled execution, or the orchestrator gave up on it). */
  @EventPattern('flotilla.task.TaskCancellationRequested')
  async onTaskCancellationRequested(@Payload() event: ConsumedEvent<TaskCancellationRequested>): Promise<void> {
    const { executionId, taskId, attempt, reason } = event.envelope.payload;
    if (this.running.cancel(RunningAttempts.key(executionId, taskId, attempt), reason)) {
      this.platform.logger.info({ executionId, taskId, attempt, reason }, 'attempt cancelled');
    }
  }

  private async execute(dispatch: TaskDispatched, cancelled: AbortSignal): Promise<{ outcome: ExecutorOutcome; usage: ResourceUsage }> {
    const executor: TaskExecutor = this.settings.executorFor(dispatch.agentType);
    const startedAt = performance.now();
    const cpuBefore = process.cpuUsage();
    const signal = AbortSignal.any([cancelled, AbortSignal.timeout(this.settings.taskTimeoutMs)]);
    // Heartbeats follow the executor's own signs of life, at most one per interval.
    let lastHeartbeat = 0;
    const heartbeat = (progress?: number, message?: string) => {
      if (Date.now() - lastHeartbeat < this.settings.heartbeatIntervalMs) return;
      lastHeartbeat = Date.now();
      void this.heartbeat(dispatch, progress ?? null, message ?? null);
    };
    let outcome: ExecutorOutcome;
    try {
      outcome = await executor.run(dispatch, { signal, heartbeat });
    } catch (error) {
      const reason = signal.reason instanceof Error ? signal.reason : (error as Error);
      const errorKind = reason instanceof CancelledError ? 'cancelled' : reason.name === 'TimeoutError' ? 'timeout' : 'executor_error';
      outcome = { ok: false, errorKind, reason: reason.message };
    }
    const cpu = process.cpuUsage(cpuBefore);
    return {
      outcome,
      // A child process measures itself; in-process executors get this process's share, an approximation.
      usage: {
        cpuTimeMs: outcome.usage?.cpuTimeMs ?? (cpu.user + cpu.system) / 1000,
        peakRssBytes: outcome.usage?.peakRssBytes ?? process.memoryUsage().rss,
        wallTimeMs: performance.now() - startedAt,
      },
    };
  }

  /**
   * Liveness of a running attempt. Published directly rather than through the outbox: a heartbeat
   * changes no state, and a lost one only matters if all of them are lost, which the timeout is for.
   */
  private async heartbeat(dispatch: TaskDispatched, progress: number | null, message: string | null): Promise<void> {
    const { executionId, taskId, attempt, agentType } = dispatch;
    try {
      await this.platform.publisher.publish([
        {
          topic: this.platform.topic(TOPICS.taskEvents.name),
          key: executionId,
          envelope: {
            eventId: uuidv7(),
            eventType: 'flotilla.task.TaskHeartbeat',
            aggregateId: taskAttemptStreamId(dispatch),
            aggregateVersion: 0,
            occurredAt: Date.now(),
            correlationId: executionId,
            causationId: null,
            // Runs inside the dispatch's consume span (timers keep the async context), so the heartbeat joins the execution's trace.
            ...currentTraceContext(),
            payload: { executionId, taskId, attempt, agentType, workerId: this.workerId, progress, message, at: Date.now() },
          },
        },
      ]);
    } catch (error) {
      this.platform.logger.warn({ err: error, executionId, taskId }, 'heartbeat not published');
    }
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
