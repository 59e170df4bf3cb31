import type { ExecutionRequested } from '@flotilla/contracts';
import type { ExecutionCommand, ExecutionEvent } from './execution';
import { executionDecider } from './execution.decider';

const T0 = 1_700_000_000_000;

function request(overrides: Partial<ExecutionRequested> = {}): ExecutionRequested {
  return {
    executionId: 'e-1',
    customerId: 'acme',
    kind: 'app_generation',
    tasks: [
      { taskId: 'plan', agentType: 'arch_planning', dependsOn: [], input: {} },
      { taskId: 'code', agentType: 'code_gen', dependsOn: ['plan'], input: { lang: 'ts' } },
    ],
    contractValue: null,
    deadlineAt: null,
    tier: null,
    requestedAt: T0,
    ...overrides,
  };
}

/** given events, when command, then events (Emmett-style). */
function given(...events: ExecutionEvent[]) {
  const state = events.reduce(executionDecider.evolve, executionDecider.initialState);
  return { when: (command: ExecutionCommand) => executionDecider.decide(command, state) };
}

const accepted = (): ExecutionEvent[] => executionDecider.decide({ type: 'RequestExecution', request: request(), now: T0 }, executionDecider.initialState);

describe('Execution decider', () => {
  it('accepts a valid request and dispatches only the tasks without dependencies', () => {
    const events = given().when({ type: 'RequestExecution', request: request(), now: T0 });
    expect(events.map((e) => e.type)).toEqual(['flotilla.execution.ExecutionAccepted', 'flotilla.task.TaskDispatched']);
    expect(events[1].data).toMatchObject({ taskId: 'plan', attempt: 1, agentType: 'arch_planning', dispatchedAt: T0 });
  });

  it('rejects an invalid request with every reason, naming the field', () => {
    const events = given().when({
      type: 'RequestExecution',
      request: request({ customerId: null, tasks: [{ taskId: 'x', agentType: 'astrology', dependsOn: ['y'], input: {} }] }),
      now: T0,
    });
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe('flotilla.execution.ExecutionRejected');
    const reasons = (events[0].data as { reasons?: readonly string[] }).reasons;
    expect(reasons).toEqual(
      expect.arrayContaining(['customerId is required', 'tasks[0].agentType "astrology" is not a known agent type', 'tasks[0].dependsOn names unknown task "y"']),
    );
  });

  it('rejects a cyclic workflow', () => {
    const tasks = [
      { taskId: 'a', agentType: 'code_gen', dependsOn: ['b'], input: {} },
      { taskId: 'b', agentType: 'testing', dependsOn: ['a'], input: {} },
    ];
    const [event] = given().when({ type: 'RequestExecution', request: request({ tasks }), now: T0 });
    expect(((event.data as { reasons?: readonly string[] }).reasons ?? []).join()).toMatch(/cycle: a -> b -> a/);
  });

  it('ignores a repeated request for the same execution', () => {
    expect(given(...accepted()).when({ type: 'RequestExecution', request: request(), now: T0 + 5 })).toEqual([]);
  });

  it('dispatches the next task when its dependency completes, and completes after the last', () => {
    const afterPlan = given(...accepted()).when({ type: 'RecordTaskCompleted', taskId: 'plan', attempt: 1, now: T0 + 10 });
    expect(afterPlan.map((e) => e.type)).toEqual(['flotilla.execution.TaskOutcomeRecorded', 'flotilla.task.TaskDispatched']);
    const afterCode = given(...accepted(), ...afterPlan).when({ type: 'RecordTaskCompleted', taskId: 'code', attempt: 1, now: T0 + 30 });
    expect(afterCode.map((e) => e.type)).toEqual(['flotilla.execution.TaskOutcomeRecorded', 'flotilla.execution.ExecutionCompleted']);
    expect(afterCode[1].data).toMatchObject({ durationMs: 30 });
  });

  it('applies a completion only once', () => {
    const first = given(...accepted()).when({ type: 'RecordTaskCompleted', taskId: 'plan', attempt: 1, now: T0 + 10 });
    expect(given(...accepted(), ...first).when({ type: 'RecordTaskCompleted', taskId: 'plan', attempt: 1, now: T0 + 11 })).toEqual([]);
  });

  it('fails the execution when a task fails, with the reason', () => {
    const events = given(...accepted()).when({ type: 'RecordTaskFailed', taskId: 'plan', attempt: 1, reason: 'exit code 2', now: T0 + 10 });
    expect(events[1]).toMatchObject({ type: 'flotilla.execution.ExecutionFailed', data: { failedTaskId: 'plan', reason: 'task plan failed: exit code 2' } });
  });
});
