import { initialTaskAttemptState, type TaskAttemptCommand, type TaskAttemptEvent, type TaskAttemptState } from './task-attempt';
import { assertNever } from '@flotilla/domain';

export function decide(command: TaskAttemptCommand, state: TaskAttemptState): TaskAttemptEvent[] {
  switch (command.type) {
    case 'StartTask': {
      // A redelivered dispatch of an attempt already running (the worker died) runs it again without a second start.
      if (state.status !== 'NotStarted') return [];
      const { executionId, customerId, taskId, attempt, agentType } = command.dispatch;
      return [{ type: 'flotilla.task.TaskStarted', data: { executionId, customerId, taskId, attempt, agentType, workerId: command.workerId, startedAt: command.now } }];
    }
    case 'CompleteTask': {
      if (state.status !== 'Running') return [];
      const { executionId, taskId, attempt, agentType, workerId } = state;
      return [{ type: 'flotilla.task.TaskCompleted', data: { executionId, customerId: customerOf(state), taskId, attempt, agentType, workerId, output: command.output, usage: command.usage, completedAt: command.now } }];
    }
    case 'FailTask': {
      if (state.status !== 'Running') return [];
      const { executionId, taskId, attempt, agentType, workerId } = state;
      return [
        {
          type: 'flotilla.task.TaskFailed',
          data: { executionId, customerId: customerOf(state), taskId, attempt, agentType, workerId, errorKind: command.errorKind, reason: command.reason, usage: command.usage, failedAt: command.now },
        },
      ];
    }
    default:
      return assertNever(command);
  }
}

/** An attempt started before TaskStarted carried the customer has none recorded: '' (the schema's default). */
function customerOf(state: { readonly customerId?: string }): string {
  return state.customerId ?? '';
}

export function evolve(state: TaskAttemptState, event: TaskAttemptEvent): TaskAttemptState {
  switch (event.type) {
    case 'flotilla.task.TaskStarted':
      return { status: 'Running', ...event.data };
    case 'flotilla.task.TaskCompleted':
      return state.status === 'Running' ? { ...state, status: 'Completed', completedAt: event.data.completedAt } : state;
    case 'flotilla.task.TaskFailed':
      return state.status === 'Running' ? { ...state, status: 'Failed', reason: event.data.reason, failedAt: event.data.failedAt } : state;
    default:
      return assertNever(event);
  }
}


export const taskAttemptDecider = { initialState: initialTaskAttemptState, decide, evolve };
