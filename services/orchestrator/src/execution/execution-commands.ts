import { fold } from '@flotilla/domain';
import { CommandBatcher, type CommandResult } from '@flotilla/event-store';
import { Counter, Histogram } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import { executionStreamId, type ExecutionCommand, type ExecutionEvent, type ExecutionState } from './domain/execution';
import { executionDecider } from './domain/execution.decider';
import { timerChanges } from './domain/execution-timers';
import type { ExecutionSettings } from './domain/policies';
import type { AdmissionStore } from '../admission/ports';
import type { AdmissionCommands } from '../admission/admission-commands';
import { executionOutcome } from '../admission/domain/customer-circuit';
import { executionTimerId, type ExecutionTimers } from './ports';

/**
 * The one way to change an Execution, whatever asks (a consumed event, an HTTP call, a due timer):
 * commands go through a CommandBatcher, so those arriving together share one transaction, with the
 * durable timers and admission-queue rows their events start or end.
 */
export class ExecutionCommands {
  constructor(
    private readonly platform: Platform,
    readonly settings: ExecutionSettings,
    readonly timers: ExecutionTimers,
    readonly admission: AdmissionStore,
    private readonly circuits: Pick<AdmissionCommands, 'circuitsWithin'>,
  ) {
    this.durations = new Histogram({
      name: 'workflow_execution_duration_seconds',
      help: 'Time from acceptance to completion of executions',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
      registers: [platform.metrics],
    });
    this.outcomes = new Counter({ name: 'workflow_execution_events_total', help: 'Execution outcomes and task retries', labelNames: ['outcome'], registers: [platform.metrics] });
    this.batcher = new CommandBatcher({
      store: platform.store,
      decider: executionDecider,
      route: platform.route,
      onCommitted: () => platform.relay.notifyCommitted(),
      withinTransaction: async (client, commands) => {
        // Every timer the batch's events start or end, in one delete and one insert.
        await this.timers.applyChanges(
          client,
          commands.map(({ streamId, correlationId: executionId, applied, traceparent }) => {
            const timers = timerChanges(applied, this.settings);
            return {
              streamId,
              cancelAll: timers.cancelAll,
              cancel: timers.cancel.map((timer) => executionTimerId(executionId, timer)),
              schedule: timers.schedule.map((timer) => ({ timerId: executionTimerId(executionId, timer), streamId, dueAt: timer.dueAt, payload: { ...timer, executionId } })),
              traceparent,
            };
          }),
        );
        await this.admission.applyExecutionEvents(client, commands.flatMap(({ applied, traceparent }) => applied.map(({ event }) => ({ event, traceparent }))));
        // How each execution ended counts on its customer's circuit in the same commit: never lost,
        // never counted twice, and without a round trip through Kafka.
        const now = Date.now();
        await this.circuits.circuitsWithin(
          client,
          commands.flatMap(({ applied, traceparent }) =>
            applied.flatMap(({ event }) => {
              const outcome = executionOutcome(event);
              return outcome ? [{ command: { type: 'RecordExecutionOutcome' as const, ...outcome, policy: this.settings.admission.circuitBreaker, now }, causationId: null, traceparent }] : [];
            }),
          ),
        );
      },
    });
  }

  private readonly batcher: CommandBatcher<ExecutionCommand, ExecutionEvent, ExecutionState>;

  private readonly durations: Histogram;
  private readonly outcomes: Counter;

  async apply(
    executionId: string,
    command: ExecutionCommand,
    cause: { readonly causationId: string | null; readonly inboxId?: string },
  ): Promise<CommandResult<ExecutionEvent, ExecutionState>> {
    const result = await this.handle(executionId, command, cause);
    if (result.status === 'applied') {
      this.observe(result.events);
      if (result.events.some(changesAdmission)) for (const listener of this.admissionListeners) listener();
    }
    return result;
  }

  /** The execution as its events say now (a read, outside any command). */
  async current(executionId: string): Promise<ExecutionState> {
    const { events } = await this.platform.store.readStream<ExecutionEvent['data']>(executionStreamId(executionId));
    return fold(executionDecider, events.map((stored) => ({ type: stored.eventType, data: stored.data }) as ExecutionEvent));
  }

  private readonly admissionListeners: Array<() => void> = [];

  /** Called after a command committed an event that queued an execution or freed a slot. */
  onAdmissionChange(listener: () => void): void {
    this.admissionListeners.push(listener);
  }

  /** Metrics from what was just committed: each terminal event is observed once, by the command that made it. */
  private observe(events: readonly ExecutionEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'flotilla.execution.ExecutionCompleted':
          this.durations.observe({ outcome: 'completed' }, event.data.durationMs / 1000);
          this.outcomes.inc({ outcome: 'completed' });
          break;
        case 'flotilla.execution.ExecutionFailed':
          this.outcomes.inc({ outcome: 'failed' });
          break;
        case 'flotilla.execution.ExecutionRejected':
          this.outcomes.inc({ outcome: 'rejected' });
          break;
        case 'flotilla.execution.ExecutionCancelled':
          this.outcomes.inc({ outcome: 'cancelled' });
          break;
        case 'flotilla.execution.TaskRetryScheduled':
          this.outcomes.inc({ outcome: 'task_retry' });
          break;
        default:
          break;
      }
    }
  }

  private handle(
    executionId: string,
    command: ExecutionCommand,
    cause: { readonly causationId: string | null; readonly inboxId?: string },
  ): Promise<CommandResult<ExecutionEvent, ExecutionState>> {
    return this.batcher.submit({
      streamId: executionStreamId(executionId),
      command,
      correlationId: executionId,
      causationId: cause.causationId,
      inbox: cause.inboxId ? { consumer: 'orchestrator.executions', eventId: cause.inboxId } : undefined,
    });
  }
}

function changesAdmission(event: ExecutionEvent): boolean {
  switch (event.type) {
    case 'flotilla.execution.ExecutionQueued':
    case 'flotilla.execution.ExecutionCompleted':
    case 'flotilla.execution.ExecutionFailed':
    case 'flotilla.execution.ExecutionCancelled':
    case 'flotilla.execution.ExecutionRejected':
      return true;
    default:
      return false;
  }
}
