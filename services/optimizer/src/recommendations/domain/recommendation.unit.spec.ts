import type { PoolRecommendation } from './over-provisioning';
import { recommendationDecider, type RecommendationCommand, type RecommendationState } from './recommendation';

const advice = (recommendedWorkers: number, currentWorkers = 8): PoolRecommendation => ({
  kind: 'over_provisioned',
  agentType: 'code_gen',
  currentWorkers,
  recommendedWorkers,
  estimatedMonthlySavingMicros: (currentWorkers - recommendedWorkers) * 102_200_000,
  confidence: 0.5,
  efficiency: 0.1,
  summary: 's',
  evidence: {},
});
/** A schedule: the same workers, over the window its evidence names. */
const schedule = (window: string, other = '1'): PoolRecommendation => ({ ...advice(2), kind: 'schedule_weekly', evidence: { window, weeksObserved: other } });
const apply = (commands: RecommendationCommand[], from: RecommendationState = recommendationDecider.initialState) =>
  commands.reduce(
    (acc, command) => {
      const events = recommendationDecider.decide(command, acc.state);
      return { state: events.reduce(recommendationDecider.evolve, acc.state), types: [...acc.types, ...events.map((e) => e.type.split('.').pop())] };
    },
    { state: from, types: [] as (string | undefined)[] },
  );
const issue = (r: PoolRecommendation, now = 1): RecommendationCommand => ({ type: 'Issue', recommendation: r, now });
const dismiss: RecommendationCommand = { type: 'Dismiss', agentType: 'code_gen', dismissedBy: 'ops', reason: 'seasonal peak coming', now: 9 };

describe('recommendation decider', () => {
  it.each([
    ['issues a new recommendation', [issue(advice(2))], ['RecommendationIssued'], 'Open'],
    ['does not issue the same advice twice', [issue(advice(2)), issue(advice(2), 2)], ['RecommendationIssued'], 'Open'],
    ['issues again when the advice changes', [issue(advice(2)), issue(advice(3), 2)], ['RecommendationIssued', 'RecommendationIssued'], 'Open'],
    ['issues a schedule again when its window changes, with the same workers', [issue(schedule('on Saturday and Sunday 00:00–24:00 UTC')), issue(schedule('on Sunday 00:00–24:00 UTC'), 2)], ['RecommendationIssued', 'RecommendationIssued'], 'Open'],
    ['not when only the rest of its evidence changes', [issue(schedule('on Sunday 00:00–24:00 UTC', '2')), issue(schedule('on Sunday 00:00–24:00 UTC', '3'), 2)], ['RecommendationIssued'], 'Open'],
    ['remembers a dismissal: later evidence does not reopen it', [issue(advice(2)), dismiss, issue(advice(1), 20), dismiss], ['RecommendationIssued', 'RecommendationDismissed'], 'Dismissed'],
    ['dismisses nothing that was never issued', [dismiss], [], 'None'],
  ])('%s', (_name, commands, types, status) => {
    const { state, types: emitted } = apply(commands);
    expect(emitted).toEqual(types);
    expect(state.status).toBe(status);
  });
});
