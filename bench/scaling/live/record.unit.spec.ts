import { integrate } from '../figures';
import { parseTrace } from '../trace';
import { idleWhileWaiting, taskRecords, timelineOf, workerLives, type TailedEvent } from './record';
import { sliceOf, sliceTrace } from './slice';

const ready = (workerId: string, readyAt: number, timeToReadyMs: number, requestId = 'initial:code_gen'): TailedEvent => ({
  type: 'flotilla.pool.PoolWorkerReady',
  payload: { agentType: 'code_gen', workerId, requestId, timeToReadyMs, readyReplicas: 0, replicas: 0, readyAt },
});
const drained = (workerId: string, drainedAt: number, drainMs: number): TailedEvent => ({
  type: 'flotilla.pool.PoolWorkerDrained',
  payload: { agentType: 'code_gen', workerId, requestId: null, drainMs, handedBack: 0, readyReplicas: 0, replicas: 0, drainedAt },
});

describe('live recording', () => {
  it('turns pool events into the simulation\'s worker timeline: paid for from start to gone, ready from ready to drain', () => {
    // given one worker from 1000 (ready 4000) to the end, and one from 2000 (ready 5000) asked to drain at 9000, gone at 10000
    const lives = workerLives([ready('a', 4_000, 3_000), ready('b', 5_000, 3_000, 'saga-1:scale'), drained('b', 10_000, 1_000)], 'code_gen');
    // when its timeline is taken from an origin of 1000
    const timeline = timelineOf(lives, 1_000);
    // then
    expect(timeline).toEqual({ at: [0, 1_000, 3_000, 4_000, 8_000, 9_000], provisioned: [1, 2, 2, 2, 2, 1], ready: [0, 0, 1, 2, 1, 1] });
    expect(lives.map((w) => [w.workerId, w.requestId, w.end])).toEqual([['a', 'initial:code_gen', 'running'], ['b', 'saga-1:scale', 'drained']]);
    // and worker-seconds over [0, 10000] are a's 10 s and b's 8 s
    expect(integrate(timeline.at, timeline.provisioned, 0, 10_000)).toBe(18_000);
  });

  it('takes each task\'s first start and its end', () => {
    const dispatched = [{ executionId: 'x', index: 0, dueAt: 0, dispatchedAt: 1, durationMs: 100 }, { executionId: 'y', index: 1, dueAt: 5, dispatchedAt: 6, durationMs: 100 }];
    const events: TailedEvent[] = [
      { type: 'flotilla.task.TaskStarted', payload: { executionId: 'x', workerId: 'w2', startedAt: 50 } },
      { type: 'flotilla.task.TaskStarted', payload: { executionId: 'x', workerId: 'w1', startedAt: 20 } },
      { type: 'flotilla.task.TaskCompleted', payload: { executionId: 'x', completedAt: 130 } },
    ];
    expect(taskRecords(dispatched, events)).toEqual([
      { startedAt: 20, finishedAt: 130, workerId: 'w1', starts: 2, failed: false },
      { startedAt: Number.NaN, finishedAt: Number.NaN, workerId: null, starts: 0, failed: false },
    ]);
  });

  it('counts the time a task waited while a ready slot was free', () => {
    // given one ready worker of two slots, one task running 0..10000, one arriving at 1000 and started at 3000
    const timeline = { at: [0], provisioned: [1], ready: [1] };
    const idle = idleWhileWaiting({ arrivals: [0, 1_000], starts: [0, 3_000], finishes: [10_000, 5_000], timeline, slotsPerWorker: 2 }, 0, 20_000);
    // then 2 s were lost: a slot was free all along
    expect(idle.totalMs).toBe(2_000);
    expect(idle.longest).toEqual([{ at: 1_000, ms: 2_000 }]);
  });

  it('slices a trace on its own clock, with its steps and the task draws of the whole trace', () => {
    const trace = parseTrace(['# start_ms=0', '# step_at_ms=600000', '# step_rate_per_sec=4.8', '# measure_from_ms=300000', '# end_ms=1200000', '# initial_replicas=3', '100', '480000', '500000', '700000', '960000'].join('\n'));
    const slice = sliceTrace(trace, 480_000, 960_000, 60_000);
    expect([...slice.trace.arrivalsMs]).toEqual([0, 20_000, 220_000]);
    expect(slice.trace).toMatchObject({ endMs: 480_000, measureFromMs: 60_000, steps: [{ atMs: 120_000, ratePerSec: 4.8 }], initialReplicas: 3 });
    expect([...sliceOf(Float64Array.from([1, 2, 3, 4, 5]), slice)]).toEqual([2, 3, 4]);
  });
});
