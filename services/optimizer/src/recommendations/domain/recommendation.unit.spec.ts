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
    ['remembers a dismissal: later evidence does not reopen it', [issue(advice(2)), dismiss, issue(advice(1), 20), dismiss], ['RecommendationIssued', 'RecommendationDismissed'], 'Dismissed'],
    ['dismisses nothing that was never issued', [dismiss], [], 'None'],
  ])('%s', (_name, commands, types, status) => {
    const { state, types: emitted } = apply(commands);
    expect(emitted).toEqual(types);
    expect(state.status).toBe(status);
  });
});
