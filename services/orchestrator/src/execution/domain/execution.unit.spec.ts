import type { ExecutionRequested, TaskSpec } from '@flotilla/contracts';
import type { ExecutionCommand, ExecutionEvent, ExecutionState } from './execution';
import { executionDecider } from './execution.decider';
import { timerChanges, timersEndedBy, timersFor } from './execution-timers';
import { DEFAULT_ADMISSION_POLICY } from '../../admission/domain/admission-policy';
import type { ExecutionSettings } from './policies';
import { deciderSpec } from '@flotilla/domain';

const T0 = 1_700_000_000_000;
const task = (taskId: string, agentType: string, dependsOn: string[] = []): TaskSpec => ({ taskId, agentType, dependsOn, input: {} });

const settings: ExecutionSettings = {
  workflows: {
    review: [task('analysis', 'analysis'), task('security_scan', 'security_scan', ['analysis']), task('style_check', 'style_check', ['analysis']), task('summary', 'summary', ['security_scan', 'style_check'])],
  },
  defaultRetryPolicy: { initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 60_000, maximumAttempts: 3, nonRetryableErrorKinds: ['invalid_input'] },
  retryPolicies: { deployment: { initialIntervalMs: 500, backoffCoefficient: 3, maximumIntervalMs: 5_000, maximumAttempts: 1, nonRetryableErrorKinds: [] } },
  defaultTimeouts: { scheduleToStartMs: 60_000, startToCloseMs: 300_000, heartbeatMs: 10_000 },
  timeouts: {},
  admission: DEFAULT_ADMISSION_POLICY,
};

function request(overrides: Partial<ExecutionRequested> = {}): ExecutionRequested {
  return {
    executionId: 'e-1',
    customerId: 'acme',
    kind: 'app_generation',
    tasks: [task('plan', 'arch_planning'), task('code', 'code_gen', ['plan']), task('test', 'testing', ['code'])],
    contractValue: null,
    deadlineAt: null,
    tier: null,
    requestedAt: T0,
    ...overrides,
  };
}

/** given events, when command: the events decided (the shared decider spec, read as a plain list here). */
const spec = deciderSpec(executionDecider);
function given(...events: ExecutionEvent[]) {
  const history = spec.given(...events);
  return { state: history.state, when: (command: ExecutionCommand) => [...history.when(command).events] };
}

const types = (events: ExecutionEvent[]) => events.map((e) => e.type.replace(/^flotilla\.(execution|task|alert)\./, ''));
const queued = (r = request()): ExecutionEvent[] => given().when({ type: 'RequestExecution', request: r, settings, now: T0 });
/** Requested, then admitted at once: the history most task-level specs start from. */
const requested = (r = request()): ExecutionEvent[] => {
  const history = queued(r);
  return [...history, ...given(...history).when({ type: 'AdmitExecution', effectivePriority: 0, probe: false, now: T0 })];
};
const failed = (taskId: string, attempt: number, errorKind = 'exit_code', now = T0 + 100): ExecutionCommand => ({ type: 'RecordTaskFailed', taskId, attempt, errorKind, reason: 'exit code 2', settings, now });

describe('Execution decider: admission of the request', () => {
  it('accepts a valid request into the admission queue with its priority, and dispatches nothing yet', () => {
    const events = queued(request({ contractValue: 250_000, deadlineAt: T0 + 10 * 86_400_000, tier: 'premium' }));
    expect(types(events)).toEqual(['ExecutionAccepted', 'ExecutionQueued']);
    expect(events[1].data).toMatchObject({ executionId: 'e-1', customerId: 'acme', tier: 'premium', basePriority: 25 + 20 + 20, queuedAt: T0 });
  });

  it('dispatches only the tasks without dependencies when admitted, once', () => {
    const history = queued();
    const events = given(...history).when({ type: 'AdmitExecution', effectivePriority: 7.5, probe: false, now: T0 + 2_000 });
    expect(types(events)).toEqual(['ExecutionAdmitted', 'TaskDispatched']);
    expect(events[0].data).toMatchObject({ effectivePriority: 7.5, waitedMs: 2_000, admittedAt: T0 + 2_000 });
    expect(events[1].data).toMatchObject({ taskId: 'plan', attempt: 1, agentType: 'arch_planning', dispatchedAt: T0 + 2_000 });
    expect(given(...history, ...events).when({ type: 'AdmitExecution', effectivePriority: 9, probe: false, now: T0 + 3_000 })).toEqual([]);
  });

  it('ignores task reports while queued: nothing was dispatched', () => {
    expect(given(...queued()).when({ type: 'RecordTaskCompleted', taskId: 'plan', attempt: 1, now: T0 + 1 })).toEqual([]);
  });

  it('cancels a queued execution, skipping every task, and it can no longer be admitted', () => {
    const history = queued();
    const cancelled = given(...history).when({ type: 'CancelExecution', reason: 'changed my mind', now: T0 + 5 });
    expect(types(cancelled)).toEqual(['TaskSkipped', 'TaskSkipped', 'TaskSkipped', 'ExecutionCancelled']);
    expect(given(...history, ...cancelled).when({ type: 'AdmitExecution', effectivePriority: 1, probe: false, now: T0 + 6 })).toEqual([]);
  });

  it('is rejected from the queue with the reason admission gives', () => {
    const events = given(...queued()).when({ type: 'RejectQueued', reason: 'circuit open', now: T0 + 5 });
    expect(events).toEqual([{ type: 'flotilla.execution.ExecutionRejected', data: { executionId: 'e-1', customerId: 'acme', reasons: ['circuit open'], rejectedAt: T0 + 5 } }]);
    expect(given(...queued(), ...events).state.status).toBe('Rejected');
  });

  it('records a queue-time SLA violation once, with an alert', () => {
    const history = queued();
    const violation = given(...history).when({ type: 'RecordSlaViolation', sla: 'queue_time', limitMs: 300_000, now: T0 + 301_000 });
    expect(types(violation)).toEqual(['SlaViolated', 'AlertRaised']);
    expect(violation[0].data).toMatchObject({ sla: 'queue_time', limitMs: 300_000, actualMs: 301_000 });
    expect(violation[1].data).toMatchObject({ severity: 'warning', kind: 'sla_violated', customerId: 'acme', executionId: 'e-1' });
    expect(given(...history, ...violation).when({ type: 'RecordSlaViolation', sla: 'queue_time', limitMs: 300_000, now: T0 + 400_000 })).toEqual([]);
  });

  it('runs the configured workflow of its kind when the request carries no tasks', () => {
    const events = queued(request({ kind: 'review', tasks: [] }));
    expect(types(events)).toEqual(['ExecutionAccepted', 'ExecutionQueued']);
    expect((events[0].data as unknown as { tasks: TaskSpec[] }).tasks.map((t) => t.taskId)).toEqual(['analysis', 'security_scan', 'style_check', 'summary']);
  });

  it('rejects an unknown kind without tasks, an unknown agent type, a missing customer and a cycle, with every reason', () => {
    const [unknownKind] = queued(request({ kind: 'astrology', tasks: [] }));
    expect((unknownKind.data as unknown as { reasons: string[] }).reasons[0]).toMatch(/kind "astrology" is not a known workflow/);
    const [invalid] = queued(request({ customerId: null, tasks: [{ ...task('a', 'fortune_telling', ['b']) }, task('b', 'testing', ['a'])] }));
    expect(invalid.type).toBe('flotilla.execution.ExecutionRejected');
    expect((invalid.data as unknown as { reasons: string[] }).reasons).toEqual(
      expect.arrayContaining(['customerId is required', 'tasks[0].agentType "fortune_telling" is not a known agent type', expect.stringMatching(/cycle: a -> b -> a/)]),
    );
  });

  it('rejects a request turned away before it became one (RejectRequest) once, and never an execution already requested', () => {
    const rejection: ExecutionCommand = { type: 'RejectRequest', executionId: 'e-1', customerId: null, reasons: ['headCommit must not be empty'], now: T0 + 5 };
    spec.given().when(rejection).then([{ type: 'flotilla.execution.ExecutionRejected', data: { executionId: 'e-1', customerId: null, reasons: ['headCommit must not be empty'], rejectedAt: T0 + 5 } }]);
    expect(given(...queued()).when(rejection)).toEqual([]);
    expect(given(...requested()).when(rejection)).toEqual([]);
  });

  it('ignores a repeated request for the same execution', () => {
    expect(given(...requested()).when({ type: 'RequestExecution', request: request(), settings, now: T0 + 5 })).toEqual([]);
  });
});

describe('Execution decider: DAG progression', () => {
  it('dispatches parallel branches together and joins them', () => {
    const accepted = requested(request({ kind: 'review', tasks: [] }));
    const afterAnalysis = given(...accepted).when({ type: 'RecordTaskCompleted', taskId: 'analysis', attempt: 1, now: T0 + 10 });
    expect(afterAnalysis.filter((e) => e.type === 'flotilla.task.TaskDispatched').map((e) => (e.data as { taskId: string }).taskId)).toEqual(['security_scan', 'style_check']);
    const afterScan = given(...accepted, ...afterAnalysis).when({ type: 'RecordTaskCompleted', taskId: 'security_scan', attempt: 1, now: T0 + 20 });
    expect(types(afterScan)).toEqual(['TaskOutcomeRecorded']); // summary waits for style_check
    const afterStyle = given(...accepted, ...afterAnalysis, ...afterScan).when({ type: 'RecordTaskCompleted', taskId: 'style_check', attempt: 1, now: T0 + 30 });
    expect(types(afterStyle)).toEqual(['TaskOutcomeRecorded', 'TaskDispatched']);
  });

  it('completes after the last task, once', () => {
    let history = requested(request({ tasks: [task('only', 'code_gen')] }));
    const done = given(...history).when({ type: 'RecordTaskCompleted', taskId: 'only', attempt: 1, now: T0 + 30 });
    expect(types(done)).toEqual(['TaskOutcomeRecorded', 'ExecutionCompleted']);
    expect(done[1].data).toMatchObject({ durationMs: 30 });
    history = [...history, ...done];
    expect(given(...history).when({ type: 'RecordTaskCompleted', taskId: 'only', attempt: 1, now: T0 + 31 })).toEqual([]);
  });
});

describe('Execution decider: retries', () => {
  it('schedules a retry with backoff, dispatches it when the timer fires, then succeeds', () => {
    const accepted = requested();
    const firstFailure = given(...accepted).when(failed('plan', 1));
    expect(firstFailure).toEqual([{ type: 'flotilla.execution.TaskRetryScheduled', data: expect.objectContaining({ failedAttempt: 1, nextAttempt: 2, retryAt: T0 + 100 + 1_000 }) }]);
    const retried = given(...accepted, ...firstFailure).when({ type: 'FireTimer', timer: { kind: 'retry', taskId: 'plan', attempt: 2, dueAt: T0 + 1_100 }, settings, now: T0 + 1_100 });
    expect(retried).toEqual([{ type: 'flotilla.task.TaskDispatched', data: expect.objectContaining({ taskId: 'plan', attempt: 2 }) }]);
    // a late result of the abandoned attempt 1 changes nothing; attempt 2's result counts
    const history = [...accepted, ...firstFailure, ...retried];
    expect(given(...history).when({ type: 'RecordTaskCompleted', taskId: 'plan', attempt: 1, now: T0 + 1_200 })).toEqual([]);
    expect(types(given(...history).when({ type: 'RecordTaskCompleted', taskId: 'plan', attempt: 2, now: T0 + 1_200 }))).toEqual(['TaskOutcomeRecorded', 'TaskDispatched']);
  });

  it('backs off exponentially: the second retry waits twice as long', () => {
    let history = requested();
    history = [...history, ...given(...history).when(failed('plan', 1, 'exit_code', T0))];
    history = [...history, ...given(...history).when({ type: 'FireTimer', timer: { kind: 'retry', taskId: 'plan', attempt: 2, dueAt: 0 }, settings, now: T0 + 1_000 })];
    const second = given(...history).when(failed('plan', 2, 'exit_code', T0 + 1_500));
    expect(second[0].data).toMatchObject({ nextAttempt: 3, retryAt: T0 + 1_500 + 2_000 });
  });

  it('fails the execution when retries are exhausted, skipping every task downstream', () => {
    let history = requested();
    for (let attempt = 1; attempt < 3; attempt++) {
      history = [...history, ...given(...history).when(failed('plan', attempt))];
      history = [...history, ...given(...history).when({ type: 'FireTimer', timer: { kind: 'retry', taskId: 'plan', attempt: attempt + 1, dueAt: 0 }, settings, now: T0 + attempt * 5_000 })];
    }
    const last = given(...history).when(failed('plan', 3, 'exit_code', T0 + 20_000));
    expect(types(last)).toEqual(['TaskOutcomeRecorded', 'TaskSkipped', 'TaskSkipped', 'ExecutionFailed']);
    expect(last.filter((e) => e.type === 'flotilla.execution.TaskSkipped').map((e) => (e.data as { taskId: string }).taskId)).toEqual(['code', 'test']);
    expect(last[3].data).toMatchObject({ failedTaskId: 'plan', reason: 'task plan failed: exit_code: exit code 2 (retries exhausted after 3 attempt(s))' });
    expect(given(...history, ...last).state.status).toBe('Failed');
  });

  it('does not retry a non-retryable error kind', () => {
    expect(types(given(...requested()).when(failed('plan', 1, 'invalid_input')))).toEqual(['TaskOutcomeRecorded', 'TaskSkipped', 'TaskSkipped', 'ExecutionFailed']);
  });
});

describe('Execution decider: timeouts', () => {
  const started = (): ExecutionEvent[] => {
    const accepted = requested();
    return [...accepted, ...given(...accepted).when({ type: 'RecordTaskStarted', taskId: 'plan', attempt: 1, workerId: 'w-1', now: T0 + 50 })];
  };

  it('starts a schedule-to-start timer on dispatch, and start-to-close and heartbeat timers on start', () => {
    const history = started();
    const stateAfter = (n: number) => history.slice(0, n + 1).reduce(executionDecider.evolve, executionDecider.initialState as ExecutionState);
    // accepted, queued, admitted, dispatched, started
    expect(timersFor(history[3], stateAfter(3), settings)).toEqual([{ kind: 'schedule_to_start', taskId: 'plan', attempt: 1, dueAt: T0 + 60_000 }]);
    expect(timersFor(history[4], stateAfter(4), settings)).toEqual([
      { kind: 'start_to_close', taskId: 'plan', attempt: 1, dueAt: T0 + 50 + 300_000 },
      { kind: 'heartbeat', taskId: 'plan', attempt: 1, dueAt: T0 + 50 + 10_000 },
    ]);
  });

  it('ends the timers an event makes pointless: the start ends schedule-to-start, an outcome its attempt\'s timeouts, an ending all', () => {
    const history = started();
    expect(timersEndedBy(history[4])).toEqual({ scope: 'attempt', taskId: 'plan', attempt: 1, kinds: ['schedule_to_start'] });
    const completed = given(...history).when({ type: 'RecordTaskCompleted', taskId: 'plan', attempt: 1, now: T0 + 100 });
    const outcome = completed.find((e) => e.type === 'flotilla.execution.TaskOutcomeRecorded')!;
    expect(timersEndedBy(outcome)).toEqual({ scope: 'attempt', taskId: 'plan', attempt: 1, kinds: ['schedule_to_start', 'start_to_close', 'heartbeat'] });
    const cancelled = given(...history).when({ type: 'CancelExecution', reason: 'no longer needed', now: T0 + 100 });
    expect(cancelled.map(timersEndedBy)).toContainEqual({ scope: 'all' });
    expect(timersEndedBy(history[3])).toEqual({ scope: 'none' });
  });

  it('folds a command\'s timer changes into one: an outcome ends its attempt\'s timeouts and the next dispatch starts its own; an ending ends all', () => {
    const history = started();
    const applied = (events: readonly ExecutionEvent[], from: readonly ExecutionEvent[]) =>
      events.map((event, i) => ({ event, stateAfter: [...from, ...events.slice(0, i + 1)].reduce(executionDecider.evolve, executionDecider.initialState as ExecutionState) }));
    const completed = given(...history).when({ type: 'RecordTaskCompleted', taskId: 'plan', attempt: 1, now: T0 + 100 });
    const changes = timerChanges(applied(completed, history), settings);
    expect(changes.cancelAll).toBe(false);
    expect(changes.cancel).toEqual(expect.arrayContaining([{ kind: 'heartbeat', taskId: 'plan', attempt: 1 }, { kind: 'start_to_close', taskId: 'plan', attempt: 1 }]));
    // What the command dispatched next starts its schedule-to-start timeout.
    const dispatched = completed.filter((e) => e.type === 'flotilla.task.TaskDispatched');
    expect(dispatched.length).toBeGreaterThan(0);
    expect(changes.schedule.map((t) => t.kind)).toEqual(dispatched.map(() => 'schedule_to_start'));
    const cancelled = given(...history).when({ type: 'CancelExecution', reason: 'no longer needed', now: T0 + 100 });
    expect(timerChanges(applied(cancelled, history), settings)).toEqual({ cancelAll: true, cancel: [], schedule: [] });
  });

  it('a schedule-to-start timeout on a task never started retries it and tells the pool to drop the attempt', () => {
    const events = given(...requested()).when({ type: 'FireTimer', timer: { kind: 'schedule_to_start', taskId: 'plan', attempt: 1, dueAt: 0 }, settings, now: T0 + 60_000 });
    expect(types(events)).toEqual(['TaskTimedOut', 'TaskCancellationRequested', 'TaskRetryScheduled']);
    expect(events[0].data).toMatchObject({ timeout: 'schedule_to_start', attempt: 1 });
  });

  it('a schedule-to-start timer is moot once the task started', () => {
    expect(given(...started()).when({ type: 'FireTimer', timer: { kind: 'schedule_to_start', taskId: 'plan', attempt: 1, dueAt: 0 }, settings, now: T0 + 60_000 })).toEqual([]);
  });

  it('a heartbeat timeout catches a hung attempt', () => {
    const events = given(...started()).when({ type: 'FireTimer', timer: { kind: 'heartbeat', taskId: 'plan', attempt: 1, dueAt: 0 }, settings, now: T0 + 10_050 });
    expect(types(events)).toEqual(['TaskTimedOut', 'TaskCancellationRequested', 'TaskRetryScheduled']);
    expect(events[2].data).toMatchObject({ errorKind: 'timeout', reason: 'heartbeat timeout' });
  });

  it('a start-to-close timeout of the last allowed attempt fails the execution', () => {
    const r = request({ tasks: [task('ship', 'deployment')] }); // deployment: one attempt only
    const accepted = requested(r);
    const history = [...accepted, ...given(...accepted).when({ type: 'RecordTaskStarted', taskId: 'ship', attempt: 1, workerId: 'w', now: T0 + 1 })];
    const events = given(...history).when({ type: 'FireTimer', timer: { kind: 'start_to_close', taskId: 'ship', attempt: 1, dueAt: 0 }, settings, now: T0 + 300_001 });
    expect(types(events)).toEqual(['TaskTimedOut', 'TaskCancellationRequested', 'TaskOutcomeRecorded', 'ExecutionFailed']);
  });
});

describe('Execution decider: cancel', () => {
  it('tells running tasks to stop, skips the rest, and ignores whatever arrives afterwards', () => {
    const accepted = requested(request({ kind: 'review', tasks: [] }));
    const history = [...accepted, ...given(...accepted).when({ type: 'RecordTaskCompleted', taskId: 'analysis', attempt: 1, now: T0 + 10 })];
    const cancelled = given(...history).when({ type: 'CancelExecution', reason: 'customer asked', now: T0 + 20 });
    expect(types(cancelled)).toEqual(['TaskCancellationRequested', 'TaskCancellationRequested', 'TaskSkipped', 'ExecutionCancelled']);
    expect(given(...history, ...cancelled).when({ type: 'RecordTaskCompleted', taskId: 'security_scan', attempt: 1, now: T0 + 30 })).toEqual([]);
    expect(given(...history, ...cancelled).when({ type: 'CancelExecution', reason: 'again', now: T0 + 40 })).toEqual([]);
  });
});

describe('Execution decider: the attempts an ending lists (what the optimizer waits to have costed)', () => {
  const start = (taskId: string, attempt: number, now: number): ExecutionCommand => ({ type: 'RecordTaskStarted', taskId, attempt, workerId: 'w', now });
  /** Applies each command to the history so far; the whole history after them. */
  const run = (history: ExecutionEvent[], ...commands: ExecutionCommand[]) => commands.reduce((h, command) => [...h, ...given(...h).when(command)], history);
  const ending = (events: readonly ExecutionEvent[]) => events.find((e) => /Execution(Completed|Failed|Cancelled)$/.test(e.type))!.data as { startedAttempts: unknown };

  it('a completed execution lists every attempt whose start was recorded, retries included', () => {
    const r = request({ tasks: [task('plan', 'arch_planning'), task('code', 'code_gen', ['plan'])] });
    const retry = (attempt: number): ExecutionCommand => ({ type: 'FireTimer', timer: { kind: 'retry', taskId: 'code', attempt, dueAt: 0 }, settings, now: T0 + 2_000 });
    const history = run(requested(r), start('plan', 1, T0 + 1), { type: 'RecordTaskCompleted', taskId: 'plan', attempt: 1, now: T0 + 2 }, start('code', 1, T0 + 3), failed('code', 1), retry(2), start('code', 2, T0 + 2_001));
    const done = given(...history).when({ type: 'RecordTaskCompleted', taskId: 'code', attempt: 2, now: T0 + 2_100 });
    expect(ending(done).startedAttempts).toEqual([{ taskId: 'plan', attempt: 1 }, { taskId: 'code', attempt: 1 }, { taskId: 'code', attempt: 2 }]);
  });

  it('an attempt dispatched but never started is not listed (a schedule-to-start timeout, or a cancellation before it started)', () => {
    const timedOut = run(requested(request({ tasks: [task('plan', 'arch_planning')] })), { type: 'FireTimer', timer: { kind: 'schedule_to_start', taskId: 'plan', attempt: 1, dueAt: 0 }, settings, now: T0 + 60_000 });
    const history = run(timedOut, { type: 'FireTimer', timer: { kind: 'retry', taskId: 'plan', attempt: 2, dueAt: 0 }, settings, now: T0 + 61_000 }, start('plan', 2, T0 + 61_001));
    expect(ending(given(...history).when({ type: 'RecordTaskCompleted', taskId: 'plan', attempt: 2, now: T0 + 61_100 })).startedAttempts).toEqual([{ taskId: 'plan', attempt: 2 }]);
    const cancelled = given(...requested()).when({ type: 'CancelExecution', reason: 'customer asked', now: T0 + 5 });
    expect(ending(cancelled).startedAttempts).toEqual([]);
  });

  it('a failed execution lists the attempt that timed out on a worker that stopped answering: it was started, and may never report', () => {
    const r = request({ tasks: [task('ship', 'deployment')] }); // deployment: one attempt only
    const history = run(requested(r), start('ship', 1, T0 + 1));
    const events = given(...history).when({ type: 'FireTimer', timer: { kind: 'heartbeat', taskId: 'ship', attempt: 1, dueAt: 0 }, settings, now: T0 + 10_001 });
    expect(ending(events).startedAttempts).toEqual([{ taskId: 'ship', attempt: 1 }]);
  });
});
