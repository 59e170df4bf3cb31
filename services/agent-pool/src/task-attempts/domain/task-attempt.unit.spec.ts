import type { TaskDispatched } from '@flotilla/contracts';
import type { TaskAttemptCommand, TaskAttemptEvent } from './task-attempt';
import { taskAttemptDecider } from './task-attempt.decider';

const dispatch: TaskDispatched = { executionId: 'e-1', customerId: 'acme', taskId: 'code', attempt: 1, agentType: 'code_gen', input: {}, dispatchedAt: 1 };
const usage = { cpuTimeMs: 3, peakRssBytes: 1024, wallTimeMs: 5 };

function given(...events: TaskAttemptEvent[]) {
  const state = events.reduce(taskAttemptDecider.evolve, taskAttemptDecider.initialState);
  return { when: (command: TaskAttemptCommand) => taskAttemptDecider.decide(command, state) };
}

describe('TaskAttempt decider', () => {
  const started = given().when({ type: 'StartTask', dispatch, workerId: 'w-1', now: 10 });

  it('starts an attempt once; a redelivered dispatch does not start it again', () => {
    expect(started).toEqual([{ type: 'flotilla.task.TaskStarted', data: expect.objectContaining({ taskId: 'code', workerId: 'w-1', startedAt: 10 }) }]);
    expect(given(...started).when({ type: 'StartTask', dispatch, workerId: 'w-2', now: 11 })).toEqual([]);
  });

  it('completes a running attempt with its usage, once', () => {
    const completed = given(...started).when({ type: 'CompleteTask', output: { ok: 'yes' }, usage, now: 20 });
    expect(completed[0]).toMatchObject({ type: 'flotilla.task.TaskCompleted', data: { usage, completedAt: 20, workerId: 'w-1' } });
    expect(given(...started, ...completed).when({ type: 'CompleteTask', output: {}, usage, now: 21 })).toEqual([]);
    expect(given(...started, ...completed).when({ type: 'FailTask', errorKind: 'timeout', reason: 'late', usage, now: 21 })).toEqual([]);
  });

  it('fails a running attempt with the error kind and reason', () => {
    const failed = given(...started).when({ type: 'FailTask', errorKind: 'exit_code', reason: 'exit code 2', usage, now: 20 });
    expect(failed[0]).toMatchObject({ type: 'flotilla.task.TaskFailed', data: { errorKind: 'exit_code', reason: 'exit code 2' } });
  });

  it('does not complete an attempt that never started', () => {
    expect(given().when({ type: 'CompleteTask', output: {}, usage, now: 5 })).toEqual([]);
  });
});
