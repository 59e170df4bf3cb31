import type { TaskSpec } from '@flotilla/contracts';
import type { ExecutionCommand, ExecutionEvent, ExecutionState, TaskState } from './execution';
import { initialExecutionState } from './execution';
import { validateExecutionRequest } from './validate-request';

export function decide(command: ExecutionCommand, state: ExecutionState): ExecutionEvent[] {
  switch (command.type) {
    case 'RequestExecution':
      return requestExecution(command, state);
    case 'RecordTaskCompleted':
      return recordTaskCompleted(command, state);
    case 'RecordTaskFailed':
      return recordTaskFailed(command, state);
    default:
      return assertNever(command);
  }
}

function requestExecution(command: Extract<ExecutionCommand, { type: 'RequestExecution' }>, state: ExecutionState): ExecutionEvent[] {
  // Requests are idempotent by execution id: a repeated request changes nothing.
  if (state.status !== 'NotRequested') return [];
  const { request, now } = command;
  const reasons = validateExecutionRequest(request);
  if (reasons.length > 0) {
    return [{ type: 'flotilla.execution.ExecutionRejected', data: { executionId: request.executionId, customerId: request.customerId, reasons, rejectedAt: now } }];
  }
  const customerId = request.customerId as string;
  const accepted: ExecutionEvent = {
    type: 'flotilla.execution.ExecutionAccepted',
    data: { executionId: request.executionId, customerId, kind: request.kind as string, tasks: request.tasks, acceptedAt: now },
  };
  const roots = request.tasks.filter((t) => t.dependsOn.length === 0);
  return [accepted, ...roots.map((task) => dispatch(request.executionId, customerId, task, 1, now))];
}

function recordTaskCompleted(command: Extract<ExecutionCommand, { type: 'RecordTaskCompleted' }>, state: ExecutionState): ExecutionEvent[] {
  if (state.status !== 'Running') return [];
  const task = state.taskStates[command.taskId];
  // Only the outcome of the attempt in flight counts; late or repeated reports are ignored.
  if (!task || task.status !== 'Dispatched' || task.attempt !== command.attempt) return [];
  const events: ExecutionEvent[] = [
    {
      type: 'flotilla.execution.TaskOutcomeRecorded',
      data: { executionId: state.executionId, taskId: command.taskId, attempt: command.attempt, outcome: 'completed', reason: null, recordedAt: command.now },
    },
  ];
  const completed = new Set(Object.entries(state.taskStates).filter(([, s]) => s.status === 'Completed').map(([id]) => id));
  completed.add(command.taskId);
  if (completed.size === state.tasks.length) {
    events.push({
      type: 'flotilla.execution.ExecutionCompleted',
      data: { executionId: state.executionId, customerId: state.customerId, completedAt: command.now, durationMs: Math.max(0, command.now - state.acceptedAt) },
    });
    return events;
  }
  const ready = state.tasks.filter((t) => state.taskStates[t.taskId]?.status === 'Pending' && t.dependsOn.every((d) => completed.has(d)));
  return [...events, ...ready.map((t) => dispatch(state.executionId, state.customerId, t, 1, command.now))];
}

function recordTaskFailed(command: Extract<ExecutionCommand, { type: 'RecordTaskFailed' }>, state: ExecutionState): ExecutionEvent[] {
  if (state.status !== 'Running') return [];
  const task = state.taskStates[command.taskId];
  if (!task || task.status !== 'Dispatched' || task.attempt !== command.attempt) return [];
  return [
    {
      type: 'flotilla.execution.TaskOutcomeRecorded',
      data: { executionId: state.executionId, taskId: command.taskId, attempt: command.attempt, outcome: 'failed', reason: command.reason, recordedAt: command.now },
    },
    {
      type: 'flotilla.execution.ExecutionFailed',
      data: { executionId: state.executionId, customerId: state.customerId, reason: `task ${command.taskId} failed: ${command.reason}`, failedTaskId: command.taskId, failedAt: command.now },
    },
  ];
}

function dispatch(executionId: string, customerId: string, task: TaskSpec, attempt: number, now: number): ExecutionEvent {
  return {
    type: 'flotilla.task.TaskDispatched',
    data: { executionId, customerId, taskId: task.taskId, attempt, agentType: task.agentType, input: task.input, dispatchedAt: now },
  };
}

export function evolve(state: ExecutionState, event: ExecutionEvent): ExecutionState {
  switch (event.type) {
    case 'flotilla.execution.ExecutionAccepted': {
      const taskStates: Record<string, TaskState> = {};
      for (const task of event.data.tasks) taskStates[task.taskId] = { status: 'Pending' };
      return { status: 'Running', ...event.data, taskStates };
    }
    case 'flotilla.execution.ExecutionRejected':
      return { status: 'Rejected', executionId: event.data.executionId, reasons: event.data.reasons };
    case 'flotilla.task.TaskDispatched':
      return withTask(state, event.data.taskId, { status: 'Dispatched', attempt: event.data.attempt });
    case 'flotilla.execution.TaskOutcomeRecorded': {
      const { taskId, attempt, outcome, reason } = event.data;
      return withTask(state, taskId, outcome === 'completed' ? { status: 'Completed', attempt } : { status: 'Failed', attempt, reason: reason ?? 'unknown' });
    }
    case 'flotilla.execution.ExecutionCompleted':
      return state.status === 'Running' ? { ...state, status: 'Completed', completedAt: event.data.completedAt } : state;
    case 'flotilla.execution.ExecutionFailed':
      return state.status === 'Running' ? { ...state, status: 'Failed', reason: event.data.reason, failedAt: event.data.failedAt } : state;
    default:
      return assertNever(event);
  }
}

function withTask(state: ExecutionState, taskId: string, task: TaskState): ExecutionState {
  if (state.status !== 'Running') return state;
  return { ...state, taskStates: { ...state.taskStates, [taskId]: task } };
}

function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}

export const executionDecider = { initialState: initialExecutionState, decide, evolve };
