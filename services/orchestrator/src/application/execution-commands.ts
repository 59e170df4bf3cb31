import { handleCommand, type CommandResult } from '@flotilla/event-store';
import { currentTraceContext } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import { executionStreamId, type ExecutionCommand, type ExecutionEvent, type ExecutionState } from '../domain/execution/execution';
import { executionDecider, timersFor } from '../domain/execution/execution.decider';
import type { ExecutionSettings } from '../domain/execution/policies';
import { routeExecutionEvent } from '../infrastructure/execution-routing';
import type { TimerStore } from '../infrastructure/timer-store';

/**
 * The one way to change an Execution, whatever asks (a consumed event, an HTTP call, a due timer):
 * the shared command handler, plus the durable timers its new events start, in the same transaction.
 */
export class ExecutionCommands {
  private readonly route: ReturnType<typeof routeExecutionEvent>;

  constructor(
    private readonly platform: Platform,
    readonly settings: ExecutionSettings,
    readonly timers: TimerStore,
  ) {
    this.route = routeExecutionEvent(platform);
  }

  apply(
    executionId: string,
    command: ExecutionCommand,
    cause: { readonly causationId: string | null; readonly inboxId?: string },
  ): Promise<CommandResult<ExecutionEvent, ExecutionState>> {
    return handleCommand({
      store: this.platform.store,
      decider: executionDecider,
      streamId: executionStreamId(executionId),
      command,
      route: this.route,
      correlationId: executionId,
      causationId: cause.causationId,
      inbox: cause.inboxId ? { consumer: 'orchestrator.executions', eventId: cause.inboxId } : undefined,
      withinTransaction: async (client, applied) => {
        const { traceparent } = currentTraceContext();
        for (const { event, stateAfter } of applied) await this.timers.schedule(client, executionId, timersFor(event, stateAfter, this.settings), traceparent);
      },
    });
  }
}
