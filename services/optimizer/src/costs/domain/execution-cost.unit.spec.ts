import type { ExecutionCostFinalized } from '@flotilla/contracts';
import { deciderSpec } from '@flotilla/domain';
import { executionCostDecider, NOTHING_COSTED, type CostedAttempts, type ExecutionCostCommand, type ExecutionCostEvent, type ExecutionCostState, type ExecutionEnd } from './execution-cost';

const T = Date.UTC(2026, 10, 27, 12);
const GRACE = 60_000;

/** Two tasks, the second retried once: three attempts started. */
const end = (over: Partial<ExecutionEnd> = {}): ExecutionEnd => ({
  executionId: 'e-1',
  customerId: 'acme',
  outcome: 'completed',
  endedAt: T,
  startedAttempts: ['plan/1', 'code/1', 'code/2'],
  ...over,
});
/** What the ledger holds: attempt → its total. */
const ledger = (costs: Record<string, number>): CostedAttempts => ({ attempts: Object.keys(costs), totalMicros: Object.values(costs).reduce((s, v) => s + v, 0) });
const all = ledger({ 'plan/1': 500, 'code/1': 700, 'code/2': 900 });

const ended = (over: Partial<ExecutionEnd> = {}, costed: CostedAttempts = NOTHING_COSTED, now = T + 10): ExecutionCostCommand => ({ type: 'RecordExecutionEnd', end: end(over), costed, currency: 'USD', graceMs: GRACE, now });
const costs = (costed: CostedAttempts, now = T + 20): ExecutionCostCommand => ({ type: 'RecordAttemptCosts', costed, now });
const graceOver = (costed: CostedAttempts, now = T + 10 + GRACE): ExecutionCostCommand => ({ type: 'ExpireGrace', costed, now });

/** Applies commands in order; what each decided, and the state at the end. */
function run(commands: readonly ExecutionCostCommand[]): { decided: string[][]; published: ExecutionCostFinalized[]; state: ExecutionCostState } {
  let state = executionCostDecider.initialState;
  const decided: string[][] = [];
  const published: ExecutionCostFinalized[] = [];
  for (const command of commands) {
    const events = executionCostDecider.decide(command, state);
    decided.push(events.map((e) => e.type.replace('flotilla.cost.', '')));
    for (const e of events) if (e.type === 'flotilla.cost.ExecutionCostFinalized') published.push(e.data);
    state = events.reduce(executionCostDecider.evolve, state);
  }
  return { decided, published, state };
}

describe('an execution cost becomes final once (worked examples)', () => {
  it.each<[string, ExecutionCostCommand[], string[][], Partial<ExecutionCostFinalized> | null]>([
    [
      'end before the last cost: waits, then the last cost finalizes it',
      [costs(ledger({ 'plan/1': 500 })), ended({}, ledger({ 'plan/1': 500, 'code/1': 700 })), costs(all, T + 30)],
      [[], ['ExecutionEndRecorded'], ['ExecutionCostFinalized']],
      { outcome: 'completed', attempts: 3, missingAttempts: 0, totalMicros: 2_100, currency: 'USD', endedAt: T, finalizedAt: T + 30 },
    ],
    [
      'end after the last cost: final at once',
      [costs(ledger({ 'plan/1': 500 })), costs(all), ended({}, all)],
      [[], [], ['ExecutionCostFinalized']],
      { attempts: 3, missingAttempts: 0, totalMicros: 2_100, finalizedAt: T + 10 },
    ],
    [
      'redelivered end, cost and timer: finalized once, and the published figure does not move',
      [ended({}, all), ended({}, all), costs(all), costs(ledger({ 'plan/1': 500, 'code/1': 700, 'code/2': 900, 'code/3': 50 })), graceOver(all)],
      [['ExecutionCostFinalized'], [], [], [], []],
      { attempts: 3, totalMicros: 2_100 },
    ],
    [
      'a second end event while waiting changes nothing (the grace period keeps its start)',
      [ended({}, ledger({ 'plan/1': 500 })), ended({ outcome: 'failed' }, ledger({ 'plan/1': 500 }), T + 999), graceOver(ledger({ 'plan/1': 500 }))],
      [['ExecutionEndRecorded'], [], ['ExecutionCostFinalized']],
      { outcome: 'completed', attempts: 1, missingAttempts: 2, totalMicros: 500 },
    ],
    [
      'grace expiry: an attempt whose worker died never reports, and is counted missing',
      [ended({ outcome: 'failed' }, ledger({ 'plan/1': 500 })), costs(ledger({ 'plan/1': 500, 'code/1': 700 })), graceOver(ledger({ 'plan/1': 500, 'code/1': 700 }))],
      [['ExecutionEndRecorded'], [], ['ExecutionCostFinalized']],
      { outcome: 'failed', attempts: 2, missingAttempts: 1, totalMicros: 1_200, finalizedAt: T + 10 + GRACE },
    ],
    [
      'the timer fires after the last cost finalized: nothing more',
      [ended({}, ledger({ 'plan/1': 500 })), costs(all), graceOver(all)],
      [['ExecutionEndRecorded'], ['ExecutionCostFinalized'], []],
      { missingAttempts: 0, totalMicros: 2_100 },
    ],
    [
      'cancelled while queued: no attempt started, final at once at zero',
      [ended({ outcome: 'cancelled', startedAttempts: [] })],
      [['ExecutionCostFinalized']],
      { outcome: 'cancelled', attempts: 0, missingAttempts: 0, totalMicros: 0 },
    ],
    [
      'cancelled mid-run: the attempt it stopped reports (cancelled) and is costed; one that never started is not awaited',
      [ended({ outcome: 'cancelled', startedAttempts: ['plan/1', 'code/1'] }, ledger({ 'plan/1': 500 })), costs(ledger({ 'plan/1': 500, 'code/1': 40 }))],
      [['ExecutionEndRecorded'], ['ExecutionCostFinalized']],
      { outcome: 'cancelled', attempts: 2, missingAttempts: 0, totalMicros: 540 },
    ],
    [
      'an attempt the orchestrator never saw start (it timed out before) counts when costed, but does not stand in for one it did see',
      [ended({ startedAttempts: ['plan/2'] }, ledger({ 'plan/1': 30 })), costs(ledger({ 'plan/1': 30, 'plan/2': 500 }))],
      [['ExecutionEndRecorded'], ['ExecutionCostFinalized']],
      { attempts: 2, missingAttempts: 0, totalMicros: 530 },
    ],
    [
      'an end event older than the list: only the grace period can tell, and it cannot count what is missing',
      [ended({ startedAttempts: null }, all), costs(all), graceOver(all)],
      [['ExecutionEndRecorded'], [], ['ExecutionCostFinalized']],
      { attempts: 3, missingAttempts: 0, totalMicros: 2_100 },
    ],
    ['costs without an end are never final', [costs(all), costs(all)], [[], []], null],
  ])('%s', (_name, commands, decided, expected) => {
    const result = run(commands);
    expect(result.decided).toEqual(decided);
    if (expected === null) {
      expect(result.published).toEqual([]);
      expect(result.state.status).toBe('Open');
    } else {
      expect(result.published).toHaveLength(1);
      expect(result.published[0]).toMatchObject({ executionId: 'e-1', customerId: 'acme', ...expected });
      expect(result.state).toEqual({ status: 'Final', final: result.published[0] });
    }
  });
});

describe('the execution cost decider, command by command', () => {
  const spec = deciderSpec(executionCostDecider);
  const endRecorded: ExecutionCostEvent = { type: 'flotilla.cost.ExecutionEndRecorded', data: { end: end(), currency: 'USD', graceUntil: T + 10 + GRACE, recordedAt: T + 10 } };

  it('an end with costs still to come starts the grace period from when it is recorded', () => {
    spec.given().when(ended({}, ledger({ 'plan/1': 500 }))).then([endRecorded]);
    expect(spec.given(endRecorded).state).toEqual({ status: 'Ended', end: end(), currency: 'USD', graceUntil: T + 10 + GRACE });
  });

  it('a cost that leaves an attempt missing decides nothing', () => {
    spec.given(endRecorded).when(costs(ledger({ 'plan/1': 500, 'code/2': 900 }))).thenNothing();
  });

  it('the last cost finalizes with the ledger total, and again it decides nothing', () => {
    spec.given(endRecorded).when(costs(all, T + 40)).then([
      { type: 'flotilla.cost.ExecutionCostFinalized', data: { executionId: 'e-1', customerId: 'acme', outcome: 'completed', attempts: 3, missingAttempts: 0, totalMicros: 2_100, currency: 'USD', endedAt: T, finalizedAt: T + 40 } },
    ]);
  });
});
