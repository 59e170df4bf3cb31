import { initialTaskAttemptState, type TaskAttemptCommand, type TaskAttemptEvent, type TaskAttemptState } from './task-attempt';
import { assertNever } from '@flotilla/domain';

export function decide(command: TaskAttemptCommand, state: TaskAttemptState): TaskAttemptEvent[] {
  switch (command.type) {
    case 'StartTask': {
      // A redelivered dispatch of an attempt already running (the worker died) runs it again without a second start.
      if (state.status !== 'NotStarted') return [];
      const { executionId, taskId, attempt, agentType } = command.dispatch;
      return [{ type: 'flotilla.task.TaskStarted', data: { executionId, taskId, attempt, agentType, workerId: command.workerId, startedAt: command.now } }];
    }
    case 'CompleteTask': {
      if (state.status !== 'Running') return [];
      const { executionId, taskId, attempt, agentType, workerId } = state;
      return [{ type: 'flotilla.task.TaskCompleted', data: { executionId, taskId, attempt, agentType, workerId, output: command.output, usage: command.usage, completedAt: command.now } }];
    }
    case 'FailTask': {
      if (state.status !== 'Running') return [];
      const { executionId, taskId, attempt, agentType, workerId } = state;
      return [
        {
          type: 'flotilla.task.TaskFailed',
          data: { executionId, taskId, attempt, agentType, workerId, errorKind: command.errorKind, reason: command.reason, usage: command.usage, failedAt: command.now },
        },
      ];
    }
    default:
      return assertNever(command);
  }
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
