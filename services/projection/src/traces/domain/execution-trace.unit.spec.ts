import { assembleExecutionTrace, type RecordedSpan } from './execution-trace';

const T0 = Date.parse('2026-11-23T12:00:00.000Z') * 1000;

const span = (overrides: Partial<RecordedSpan> & Pick<RecordedSpan, 'spanId'>): RecordedSpan => ({
  traceId: 'main',
  parentSpanId: null,
  service: 'orchestrator',
  operation: 'op',
  startTimeUs: T0,
  durationUs: 100,
  attributes: {},
  status: 'unset',
  error: null,
  ...overrides,
});

describe('an execution trace', () => {
  it('is null when no span carries the execution', () => {
    expect(assembleExecutionTrace('e-1', [])).toBeNull();
  });

  it('sorts spans by start, parents first on a tie, with depth and offset from the first span', () => {
    const trace = assembleExecutionTrace('e-1', [
      span({ spanId: 'task', parentSpanId: 'consume', service: 'agent-pool', startTimeUs: T0 + 2_000, durationUs: 5_000 }),
      span({ spanId: 'consume', parentSpanId: 'publish', service: 'agent-pool', startTimeUs: T0 + 2_000, durationUs: 6_000 }),
      span({ spanId: 'publish', parentSpanId: 'root', startTimeUs: T0 + 1_000 }),
      span({ spanId: 'root', startTimeUs: T0, durationUs: 1_500 }),
      span({ spanId: 'orphan', parentSpanId: 'not-exported', service: 'projection', startTimeUs: T0 + 9_000, durationUs: 1_000, status: 'error', error: 'boom' }),
    ])!;

    expect(trace.spans.map((s) => [s.spanId, s.depth, s.offsetUs])).toEqual([
      ['root', 0, 0],
      ['publish', 1, 1_000],
      ['consume', 2, 2_000],
      ['task', 3, 2_000],
      ['orphan', 0, 9_000],
    ]);
    expect(trace).toMatchObject({ executionId: 'e-1', traceId: 'main', otherTraceIds: [], services: ['orchestrator', 'agent-pool', 'projection'], startTime: '2026-11-23T12:00:00.000Z', durationUs: 10_000, spanCount: 5, errorCount: 1 });
  });

  it('merges every trace of the execution, the one with most spans as the main one, and counts a span once', () => {
    const trace = assembleExecutionTrace('e-1', [
      span({ traceId: 'resent', spanId: 'a', startTimeUs: T0 }),
      span({ traceId: 'main', spanId: 'a', startTimeUs: T0 + 10 }),
      span({ traceId: 'main', spanId: 'b', parentSpanId: 'a', startTimeUs: T0 + 20 }),
      span({ traceId: 'main', spanId: 'b', parentSpanId: 'a', startTimeUs: T0 + 20 }),
    ])!;

    expect(trace.traceId).toBe('main');
    expect(trace.otherTraceIds).toEqual(['resent']);
    expect(trace.spans.map((s) => `${s.traceId}/${s.spanId}@${s.depth}`)).toEqual(['resent/a@0', 'main/a@0', 'main/b@1']);
  });

  it('survives a cycle of parents in malformed data', () => {
    const trace = assembleExecutionTrace('e-1', [span({ spanId: 'x', parentSpanId: 'y' }), span({ spanId: 'y', parentSpanId: 'x', startTimeUs: T0 + 1 })])!;
    expect(trace.spans.map((s) => s.spanId)).toEqual(['x', 'y']);
  });
});
