import type { ResourceUsage, TaskDispatched } from '@flotilla/contracts';
import { TOPICS } from '@flotilla/contracts';
import { CommandBatcher } from '@flotilla/event-store';
import { DEFAULT_RETRY, withRetry, type ConsumedEvent } from '@flotilla/messaging';
import { currentTraceContext } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import { v7 as uuidv7 } from 'uuid';
import type { AgentPoolSettings } from '../agent-pool.constants';
import { taskAttemptStreamId, type TaskAttemptCommand, type TaskAttemptEvent, type TaskAttemptState } from './domain/task-attempt';
import { taskAttemptDecider } from './domain/task-attempt.decider';
import type { ExecutorOutcome, TaskExecutor } from './task-executor';
import { CancelledError } from './running-attempts';

/** How an attempt ended here; `skipped` when it had already finished (a redelivered dispatch). */
export type AttemptResult = { readonly status: 'skipped' } | { readonly status: 'finished'; readonly outcome: ExecutorOutcome; readonly usage: ResourceUsage };

/**
 * Runs one dispatched attempt once it has a slot: records TaskStarted (so its start time is when it
 * really started, not when it was queued), runs the executor with heartbeats, and records the
 * outcome together with the dispatch's inbox entry, so that a redelivered dispatch changes nothing.
 */
export class TaskRunner {
  /** Starts and outcomes of attempts running at once share transactions. */
  private readonly commands: CommandBatcher<TaskAttemptCommand, TaskAttemptEvent, TaskAttemptState>;

  constructor(
    private readonly platform: Platform,
    private readonly settings: AgentPoolSettings,
    private readonly workerId: string,
  ) {
    this.commands = new CommandBatcher({ store: platform.store, decider: taskAttemptDecider, route: platform.route, onCommitted: () => platform.relay.notifyCommitted() });
  }

  async run(event: ConsumedEvent<TaskDispatched>, cancelled: AbortSignal): Promise<AttemptResult> {
    const dispatch = event.envelope.payload;
    const started = await this.apply(event, { type: 'StartTask', dispatch, workerId: this.workerId, now: Date.now() }, false);
    if (started.status === 'applied' && started.state.status !== 'Running') return { status: 'skipped' }; // finished before a redelivery

    const { outcome, usage } = await this.execute(dispatch, cancelled);
    const command: TaskAttemptCommand = outcome.ok
      ? { type: 'CompleteTask', output: outcome.output, usage, now: Date.now() }
      : { type: 'FailTask', errorKind: outcome.errorKind, reason: outcome.reason, usage, now: Date.now() };
    await this.apply(event, command, true);
    return { status: 'finished', outcome, usage };
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
        peakRssBytes: outcome.usage?.peakRssBytes ?? process.memoryUsage.rss(), // rss() alone: memoryUsage() also walks the heap spaces, per task
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
            // Runs inside the attempt's span (timers keep the async context), so the heartbeat joins the execution's trace.
            ...currentTraceContext(),
            payload: { executionId, taskId, attempt, agentType, workerId: this.workerId, progress, message, at: Date.now() },
          },
        },
      ]);
    } catch (error) {
      this.platform.logger.warn({ err: error, executionId, taskId }, 'heartbeat not published');
    }
  }

  /** Retried like a consumed message: an outcome must not be lost to a brief database outage. */
  private apply(event: ConsumedEvent<TaskDispatched>, command: TaskAttemptCommand, recordInInbox: boolean) {
    const dispatch = event.envelope.payload;
    return withRetry(() =>
      this.commands.submit({
        streamId: taskAttemptStreamId(dispatch),
        command,
        correlationId: dispatch.executionId,
        causationId: event.envelope.eventId,
        inbox: recordInInbox ? { consumer: 'agent-pool.tasks', eventId: event.envelope.eventId } : undefined,
      }),
      { ...DEFAULT_RETRY, maxAttempts: 8 },
    );
  }
}
