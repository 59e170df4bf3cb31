import type { TaskDispatched } from '@flotilla/contracts';
import { deciderSpec } from '@flotilla/domain';
import { taskAttemptDecider } from './task-attempt.decider';

const dispatch: TaskDispatched = { executionId: 'e-1', customerId: 'acme', taskId: 'code', attempt: 1, agentType: 'code_gen', input: {}, dispatchedAt: 1 };
const usage = { cpuTimeMs: 3, peakRssBytes: 1024, wallTimeMs: 5 };
const spec = deciderSpec(taskAttemptDecider);

describe('TaskAttempt decider', () => {
  // `then` also proves each decision idempotent: the same command again, on the state it led to, decides nothing.
  const { events: started } = spec.given().when({ type: 'StartTask', dispatch, workerId: 'w-1', now: 10 }).then((events) => {
    expect(events).toEqual([{ type: 'flotilla.task.TaskStarted', data: expect.objectContaining({ taskId: 'code', workerId: 'w-1', startedAt: 10 }) }]);
  });

  it('starts an attempt once; a redelivered dispatch does not start it again', () => {
    spec.given(...started).when({ type: 'StartTask', dispatch, workerId: 'w-2', now: 11 }).thenNothing();
  });

  it('completes a running attempt with its usage, once', () => {
    const { events: completed } = spec.given(...started).when({ type: 'CompleteTask', output: { ok: 'yes' }, usage, now: 20 }).then((events) => {
      expect(events[0]).toMatchObject({ type: 'flotilla.task.TaskCompleted', data: { usage, completedAt: 20, workerId: 'w-1' } });
    });
    spec.given(...started, ...completed).when({ type: 'FailTask', errorKind: 'timeout', reason: 'late', usage, now: 21 }).thenNothing();
  });

  it('fails a running attempt with the error kind and reason', () => {
    spec.given(...started).when({ type: 'FailTask', errorKind: 'exit_code', reason: 'exit code 2', usage, now: 20 }).then((events) => {
      expect(events[0]).toMatchObject({ type: 'flotilla.task.TaskFailed', data: { errorKind: 'exit_code', reason: 'exit code 2' } });
    });
  });

  it('does not complete an attempt that never started', () => {
    spec.given().when({ type: 'CompleteTask', output: {}, usage, now: 5 }).thenNothing();
  });
});
