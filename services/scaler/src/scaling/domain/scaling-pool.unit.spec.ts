import type { ScalingDecisionRecorded } from '@flotilla/contracts';
import { snapshotOf } from '../../decisions/domain/snapshot.fixture';
import { validatePolicy, type ScalingPolicy } from '../../policies/domain/scaling-policy';
import { scalingPoolDecider, type PredictiveInput, type ScalingPoolCommand, type ScalingPoolEvent, type ScalingPoolState } from './scaling-pool';

/** Backlog per worker, target 4 tasks; 1..6 replicas; HPA's default behavior. */
function policy(overrides: Record<string, unknown> = {}): ScalingPolicy {
  const result = validatePolicy({ agentType: 'code_gen', minReplicas: 1, maxReplicas: 6, metrics: [{ metric: 'backlog_per_worker', target: 4 }], ...overrides });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.policy;
}

function run(commands: ScalingPoolCommand[], state: ScalingPoolState = scalingPoolDecider.initialState) {
  const events: ScalingPoolEvent[] = [];
  for (const command of commands) {
    const decided = scalingPoolDecider.decide(command, state);
    events.push(...decided);
    state = decided.reduce(scalingPoolDecider.evolve, state);
  }
  const decisions = events.filter((e) => e.type === 'flotilla.scaling.ScalingDecisionRecorded').map((e) => e.data as ScalingDecisionRecorded);
  return { events, state, decisions, types: events.map((e) => e.type.replace('flotilla.scaling.', '')) };
}
const define = (overrides: Record<string, unknown> = {}, now = 0): ScalingPoolCommand => ({ type: 'DefinePolicy', agentType: 'code_gen', policy: policy(overrides), template: null, by: 'ops', now });
const evaluateAt = (now: number, figures: Parameters<typeof snapshotOf>[0], currentReplicas = 2, predictive: PredictiveInput | null = null): ScalingPoolCommand => ({
  type: 'Evaluate',
  decisionId: `d-${now}`,
  snapshot: snapshotOf({ reportingWorkers: currentReplicas, ...figures }),
  currentReplicas,
  mode: 'act',
  predictive,
  now,
});

describe('a pool under the scaler', () => {
  it('gives each definition the next version, as JSON in the event and whole in the state', () => {
    const { events, state } = run([define(), define({ maxReplicas: 4 }, 10)]);
    expect(events.map((e) => (e.data as { version: number }).version)).toEqual([1, 2]);
    expect(state).toMatchObject({ status: 'Managed', policyVersion: 2, policy: { version: 2, maxReplicas: 4 } });
  });

  it('records an evaluation that scales (HPA: 2 workers, backlog 16 at target 4 per worker → 4), with its stages; every evaluation moves the history', () => {
    const { types, decisions, state } = run([define(), evaluateAt(15_000, { backlog: 16 })]);
    expect(types).toEqual(['ScalingPolicyDefined', 'ScalingHistoryAdvanced', 'ScalingDecisionRecorded']);
    expect(decisions[0]).toMatchObject({ decisionId: 'd-15000', policyVersion: 1, currentReplicas: 2, desiredReplicas: 4, direction: 'up', mode: 'act', budget: null, sagaId: null });
    expect(JSON.parse(decisions[0].snapshot)).toMatchObject({ backlog: 16 });
    expect(state.status === 'Managed' && state.history?.recommendations.length).toBeGreaterThan(0);
  });

  it('does not record an evaluation within tolerance, but keeps its recommendation in the history', () => {
    const { types } = run([define(), evaluateAt(15_000, { backlog: 8 })]);
    expect(types).toEqual(['ScalingPolicyDefined', 'ScalingHistoryAdvanced']);
  });

  it('holds the override until its expiry, then clears it and lets the policy decide in the same evaluation', () => {
    const override: ScalingPoolCommand = { type: 'SetOverride', agentType: 'code_gen', override: { replicas: 5, reason: 'launch', expiresAt: 60_000, setBy: 'ops' }, now: 1 };
    const held = run([define(), override, evaluateAt(15_000, { backlog: 8 })]);
    expect(held.decisions[0]).toMatchObject({ desiredReplicas: 5, direction: 'up' });
    expect(held.decisions[0].stages.map((s) => s.stage)).toContain('override');
    const after = run([evaluateAt(60_000, { backlog: 20 }, 5)], held.state);
    expect(after.types).toEqual(['ScalingOverrideCleared', 'ScalingHistoryAdvanced']);
    expect(after.events[0].data).toMatchObject({ reason: 'expired', clearedBy: null });
  });

  it('keeps its size while paused, and says what the policy would have done', () => {
    const { decisions } = run([define(), { type: 'Pause', agentType: 'code_gen', reason: 'incident', by: 'ops', now: 1 }, evaluateAt(15_000, { backlog: 16 })]);
    expect(decisions[0]).toMatchObject({ desiredReplicas: 2, direction: 'none' });
    expect(decisions[0].stages.at(-1)).toMatchObject({ stage: 'pause', from: 4, to: 2 });
  });

  it('sizes for the forecast rate when it is higher, never lower: a forecast alone never scales in', () => {
    const queueAware = { queueAware: { targetWaitMs: 500, model: 'erlang_c' } };
    const figures = { backlog: 0, arrivalRatePerSec: 1, meanServiceTimeMs: 1_000, utilization: 0.5 };
    const reactive = run([define(queueAware), evaluateAt(15_000, figures)]);
    const raised = run([define(queueAware), evaluateAt(15_000, figures, 2, { provisionForRatePerSec: 4, record: { source: 'forecast' } })]);
    const lowered = run([define(queueAware), evaluateAt(15_000, figures, 2, { provisionForRatePerSec: 0.1, record: { source: 'forecast' } })]);
    expect(raised.decisions[0].desiredReplicas).toBeGreaterThan(reactive.decisions[0]?.desiredReplicas ?? 2);
    expect(JSON.parse(raised.decisions[0].forecast!)).toEqual({ source: 'forecast' });
    expect(lowered.decisions.map((d) => d.desiredReplicas)).toEqual(reactive.decisions.map((d) => d.desiredReplicas));
  });

  it('evaluates nothing once its policy is removed, and answers repeats of pause, resume, clear and remove with nothing', () => {
    const { state } = run([define(), { type: 'RemovePolicy', by: 'ops', now: 1 }]);
    expect(run([evaluateAt(15_000, { backlog: 99 }), { type: 'RemovePolicy', by: 'ops', now: 2 }, { type: 'Resume', by: 'ops', now: 3 }, { type: 'ClearOverride', by: 'ops', now: 4 }], state).events).toEqual([]);
    expect(run([define()], state).state).toMatchObject({ policyVersion: 2 });
  });
});
