import type { TaskSpec } from '@flotilla/contracts';
import type { ExecutionCommand, ExecutionEvent, ExecutionState, ExecutionTimer, TaskState } from './execution';
import { initialExecutionState } from './execution';
import { basePriority } from '../../admission/domain/priority';
import { decideRetry, retryPolicyFor, type ExecutionSettings } from './policies';
import { downstreamOf, resolveWorkflow, validateExecutionRequest } from './validate-request';
import { assertNever } from '@flotilla/domain';

type Running = Extract<ExecutionState, { status: 'Running' }>;
type Queued = Extract<ExecutionState, { status: 'Queued' }>;
type Command<T extends ExecutionCommand['type']> = Extract<ExecutionCommand, { type: T }>;

export function decide(command: ExecutionCommand, state: ExecutionState): ExecutionEvent[] {
  switch (command.type) {
    case 'RequestExecution':
      return requestExecution(command, state);
    case 'RejectRequest':
      return state.status === 'NotRequested'
        ? [{ type: 'flotilla.execution.ExecutionRejected', data: { executionId: command.executionId, customerId: command.customerId, reasons: [...command.reasons], rejectedAt: command.now } }]
        : [];
    case 'RecordTaskStarted':
      return ifRunning(state, (s) => recordTaskStarted(command, s));
    case 'RecordTaskCompleted':
      return ifRunning(state, (s) => recordTaskCompleted(command, s));
    case 'RecordTaskFailed':
      return ifRunning(state, (s) => {
        const task = s.taskStates[command.taskId];
        if (!isInFlight(task, command.attempt)) return [];
        return failAttempt(s, command.taskId, command.attempt, command.errorKind, command.reason, command.settings, command.now);
      });
    case 'FireTimer':
      return ifRunning(state, (s) => fireTimer(command, s));
    case 'CancelExecution':
      return state.status === 'Queued' || state.status === 'Running' ? cancelExecution(command, state) : [];
    case 'AdmitExecution':
      return state.status === 'Queued' ? admit(command, state) : [];
    case 'RejectQueued':
      return state.status === 'Queued'
        ? [{ type: 'flotilla.execution.ExecutionRejected', data: { executionId: state.executionId, customerId: state.customerId, reasons: [command.reason], rejectedAt: command.now } }]
        : [];
    case 'RecordSlaViolation':
      return (state.status === 'Queued' || state.status === 'Running') && !state.slaViolated ? slaViolated(command, state) : [];
    default:
      return assertNever(command);
  }
}

function ifRunning(state: ExecutionState, decideRunning: (state: Running) => ExecutionEvent[]): ExecutionEvent[] {
  // Anything that arrives after the execution ended (a late result, a timer) changes nothing.
  return state.status === 'Running' ? decideRunning(state) : [];
}

function requestExecution(command: Command<'RequestExecution'>, state: ExecutionState): ExecutionEvent[] {
  // Requests are idempotent by execution id: a repeated request changes nothing.
  if (state.status !== 'NotRequested') return [];
  const { request, settings, now } = command;
  const reasons = validateExecutionRequest(request, settings);
  const tasks = resolveWorkflow(request, settings);
  if (reasons.length > 0 || !tasks) {
    return [{ type: 'flotilla.execution.ExecutionRejected', data: { executionId: request.executionId, customerId: request.customerId, reasons, rejectedAt: now } }];
  }
  const customerId = request.customerId as string;
  const tier = request.tier ?? 'standard';
  const contractValue = request.contractValue ?? 0;
  // Accepted means valid and owed a run; when it runs is admission's call (capacity, caps, priority).
  return [
    { type: 'flotilla.execution.ExecutionAccepted', data: { executionId: request.executionId, customerId, kind: request.kind as string, tasks, acceptedAt: now } },
    {
      type: 'flotilla.execution.ExecutionQueued',
      data: { executionId: request.executionId, customerId, tier, contractValue, deadlineAt: request.deadlineAt, basePriority: basePriority(request, now), queuedAt: now },
    },
  ];
}

function admit(command: Command<'AdmitExecution'>, state: Queued): ExecutionEvent[] {
  const { executionId, customerId } = state;
  const roots = state.tasks.filter((t) => t.dependsOn.length === 0);
  return [
    {
      type: 'flotilla.execution.ExecutionAdmitted',
      data: { executionId, customerId, effectivePriority: command.effectivePriority, waitedMs: Math.max(0, command.now - state.queuedAt), probe: command.probe, admittedAt: command.now },
    },
    ...roots.map((task) => dispatch(executionId, customerId, task, 1, command.now)),
  ];
}

function slaViolated(command: Command<'RecordSlaViolation'>, state: Queued | Running): ExecutionEvent[] {
  const { executionId, customerId } = state;
  const actualMs = Math.max(0, (state.admittedAt ?? command.now) - state.queuedAt);
  const message = `execution ${executionId} of customer ${customerId} ${state.admittedAt === null ? 'has waited' : 'waited'} ${Math.round(actualMs / 1000)} s in the admission queue (SLA ${Math.round(command.limitMs / 1000)} s)`;
  return [
    { type: 'flotilla.execution.SlaViolated', data: { executionId, customerId, sla: command.sla, limitMs: command.limitMs, actualMs, violatedAt: command.now } },
    {
      type: 'flotilla.alert.AlertRaised',
      data: { alertId: `sla_violated:${command.sla}:${executionId}`, severity: 'warning', kind: 'sla_violated', source: 'orchestrator', customerId, executionId, message, raisedAt: command.now },
    },
  ];
}

function recordTaskStarted(command: Command<'RecordTaskStarted'>, state: Running): ExecutionEvent[] {
  const task = state.taskStates[command.taskId];
  if (task?.status !== 'Dispatched' || task.attempt !== command.attempt) return [];
  return [
    {
      type: 'flotilla.execution.TaskStartRecorded',
      data: { executionId: state.executionId, taskId: command.taskId, attempt: command.attempt, workerId: command.workerId, startedAt: command.now },
    },
  ];
}

function recordTaskCompleted(command: Command<'RecordTaskCompleted'>, state: Running): ExecutionEvent[] {
  // Only the outcome of the attempt in flight counts; late or repeated reports are ignored.
  if (!isInFlight(state.taskStates[command.taskId], command.attempt)) return [];
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
      data: { executionId: state.executionId, customerId: state.customerId, completedAt: command.now, durationMs: Math.max(0, command.now - state.acceptedAt), startedAttempts: state.startedAttempts },
    });
    return events;
  }
  const ready = state.tasks.filter((t) => state.taskStates[t.taskId]?.status === 'Pending' && t.dependsOn.every((d) => completed.has(d)));
  return [...events, ...ready.map((t) => dispatch(state.executionId, state.customerId, t, 1, command.now))];
}

function fireTimer(command: Command<'FireTimer'>, state: Running): ExecutionEvent[] {
  const { timer, settings, now } = command;
  const task = state.taskStates[timer.taskId];
  const spec = state.tasks.find((t) => t.taskId === timer.taskId);
  if (!task || !spec) return [];
  switch (timer.kind) {
    case 'retry':
      if (task.status !== 'RetryScheduled' || task.nextAttempt !== timer.attempt) return [];
      return [dispatch(state.executionId, state.customerId, spec, timer.attempt, now)];
    case 'schedule_to_start':
      if (task.status !== 'Dispatched' || task.attempt !== timer.attempt) return [];
      return timeOut(state, spec, timer, settings, now);
    case 'start_to_close':
    case 'heartbeat':
      if (task.status !== 'Started' || task.attempt !== timer.attempt) return [];
      return timeOut(state, spec, timer, settings, now);
    default:
      return assertNever(timer.kind);
  }
}

function timeOut(state: Running, spec: TaskSpec, timer: ExecutionTimer, settings: ExecutionSettings, now: number): ExecutionEvent[] {
  const timeout = timer.kind as 'schedule_to_start' | 'start_to_close' | 'heartbeat';
  return [
    { type: 'flotilla.execution.TaskTimedOut', data: { executionId: state.executionId, taskId: spec.taskId, attempt: timer.attempt, timeout, timedOutAt: now } },
    // The worker may still be running the abandoned attempt: tell it to stop.
    cancelAttempt(state.executionId, spec, timer.attempt, `${timeout.replace(/_/g, '-')} timeout`, now),
    ...failAttempt(state, spec.taskId, timer.attempt, 'timeout', `${timeout.replace(/_/g, '-')} timeout`, settings, now),
  ];
}

/** An attempt failed: retry it if the task's policy allows, else fail the execution and skip what depends on it. */
function failAttempt(state: Running, taskId: string, attempt: number, errorKind: string, reason: string, settings: ExecutionSettings, now: number): ExecutionEvent[] {
  const spec = state.tasks.find((t) => t.taskId === taskId);
  if (!spec) return [];
  const decision = decideRetry(retryPolicyFor(settings, spec.agentType), attempt, errorKind);
  if (decision.retry) {
    return [
      {
        type: 'flotilla.execution.TaskRetryScheduled',
        data: { executionId: state.executionId, taskId, failedAttempt: attempt, nextAttempt: decision.nextAttempt, errorKind, reason, retryAt: now + decision.delayMs },
      },
    ];
  }
  const failure = `task ${taskId} failed: ${errorKind}: ${reason} (${decision.why})`;
  const events: ExecutionEvent[] = [
    {
      type: 'flotilla.execution.TaskOutcomeRecorded',
      data: { executionId: state.executionId, taskId, attempt, outcome: 'failed', reason: `${errorKind}: ${reason} (${decision.why})`, recordedAt: now },
    },
  ];
  for (const id of downstreamOf(state.tasks, taskId)) {
    if (!isTerminal(state.taskStates[id])) events.push(skip(state.executionId, id, `depends on ${taskId}, which failed`, now));
  }
  // Other branches still running cannot make the execution succeed any more.
  for (const t of state.tasks) {
    const s = state.taskStates[t.taskId];
    if (t.taskId !== taskId && (s?.status === 'Dispatched' || s?.status === 'Started')) events.push(cancelAttempt(state.executionId, t, s.attempt, failure, now));
  }
  events.push({
    type: 'flotilla.execution.ExecutionFailed',
    data: { executionId: state.executionId, customerId: state.customerId, reason: failure, failedTaskId: taskId, failedAt: now, startedAttempts: state.startedAttempts },
  });
  return events;
}

function cancelExecution(command: Command<'CancelExecution'>, state: Queued | Running): ExecutionEvent[] {
  const events: ExecutionEvent[] = [];
  for (const t of state.tasks) {
    const s = state.taskStates[t.taskId];
    if (s?.status === 'Dispatched' || s?.status === 'Started') events.push(cancelAttempt(state.executionId, t, s.attempt, `execution cancelled: ${command.reason}`, command.now));
    else if (!isTerminal(s)) events.push(skip(state.executionId, t.taskId, `execution cancelled: ${command.reason}`, command.now));
  }
  events.push({
    type: 'flotilla.execution.ExecutionCancelled',
    data: { executionId: state.executionId, customerId: state.customerId, reason: command.reason, cancelledAt: command.now, startedAttempts: state.startedAttempts },
  });
  return events;
}

function dispatch(executionId: string, customerId: string, task: TaskSpec, attempt: number, now: number): ExecutionEvent {
  return {
    type: 'flotilla.task.TaskDispatched',
    data: { executionId, customerId, taskId: task.taskId, attempt, agentType: task.agentType, input: task.input, dispatchedAt: now },
  };
}

function cancelAttempt(executionId: string, task: TaskSpec, attempt: number, reason: string, now: number): ExecutionEvent {
  return { type: 'flotilla.task.TaskCancellationRequested', data: { executionId, taskId: task.taskId, attempt, agentType: task.agentType, reason, requestedAt: now } };
}

function skip(executionId: string, taskId: string, reason: string, now: number): ExecutionEvent {
  return { type: 'flotilla.execution.TaskSkipped', data: { executionId, taskId, reason, skippedAt: now } };
}

function isInFlight(task: TaskState | undefined, attempt: number): boolean {
  return (task?.status === 'Dispatched' || task?.status === 'Started') && task.attempt === attempt;
}

function isTerminal(task: TaskState | undefined): boolean {
  return task?.status === 'Completed' || task?.status === 'Failed' || task?.status === 'Skipped';
}

export function evolve(state: ExecutionState, event: ExecutionEvent): ExecutionState {
  switch (event.type) {
    case 'flotilla.execution.ExecutionAccepted': {
      const taskStates: Record<string, TaskState> = {};
      for (const task of event.data.tasks) taskStates[task.taskId] = { status: 'Pending' };
      return { status: 'Queued', ...event.data, taskStates, startedAttempts: [], queuedAt: event.data.acceptedAt, basePriority: 0, slaViolated: false, admittedAt: null };
    }
    case 'flotilla.execution.ExecutionQueued':
      return state.status === 'Queued' ? { ...state, basePriority: event.data.basePriority, queuedAt: event.data.queuedAt } : state;
    case 'flotilla.execution.ExecutionAdmitted':
      return state.status === 'Queued' ? { ...state, status: 'Running', admittedAt: event.data.admittedAt } : state;
    case 'flotilla.execution.SlaViolated':
      return state.status === 'Queued' || state.status === 'Running' ? { ...state, slaViolated: true } : state;
    case 'flotilla.alert.AlertRaised':
      return state;
    case 'flotilla.execution.ExecutionRejected':
      return { status: 'Rejected', executionId: event.data.executionId, reasons: event.data.reasons };
    case 'flotilla.task.TaskDispatched':
      return withTask(state, event.data.taskId, { status: 'Dispatched', attempt: event.data.attempt });
    case 'flotilla.execution.TaskStartRecorded': {
      const { taskId, attempt, workerId } = event.data;
      const started = withTask(state, taskId, { status: 'Started', attempt, workerId });
      return started.status === 'Running' || started.status === 'Queued' ? { ...started, startedAttempts: [...started.startedAttempts, { taskId, attempt }] } : started;
    }
    case 'flotilla.execution.TaskRetryScheduled':
      return withTask(state, event.data.taskId, { status: 'RetryScheduled', failedAttempt: event.data.failedAttempt, nextAttempt: event.data.nextAttempt });
    case 'flotilla.execution.TaskOutcomeRecorded': {
      const { taskId, attempt, outcome, reason } = event.data;
      return withTask(state, taskId, outcome === 'completed' ? { status: 'Completed', attempt } : { status: 'Failed', attempt, reason: reason ?? 'unknown' });
    }
    case 'flotilla.execution.TaskSkipped':
      return withTask(state, event.data.taskId, { status: 'Skipped', reason: event.data.reason });
    case 'flotilla.execution.TaskTimedOut':
    case 'flotilla.task.TaskCancellationRequested':
      return state;
    case 'flotilla.execution.ExecutionCompleted':
      return state.status === 'Running' ? { ...state, status: 'Completed', completedAt: event.data.completedAt } : state;
    case 'flotilla.execution.ExecutionFailed':
      return state.status === 'Running' ? { ...state, status: 'Failed', reason: event.data.reason, failedAt: event.data.failedAt } : state;
    case 'flotilla.execution.ExecutionCancelled':
      return state.status === 'Running' || state.status === 'Queued' ? { ...state, status: 'Cancelled', reason: event.data.reason, cancelledAt: event.data.cancelledAt } : state;
    default:
      return assertNever(event);
  }
}

function withTask(state: ExecutionState, taskId: string, task: TaskState): ExecutionState {
  if (state.status !== 'Running' && state.status !== 'Queued') return state;
  return { ...state, taskStates: { ...state.taskStates, [taskId]: task } };
}

export const executionDecider = { initialState: initialExecutionState, decide, evolve };
