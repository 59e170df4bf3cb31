import { validatePolicy, type ScalingPolicy } from '../../policies/domain/scaling-policy';
import type { Decision, ManualOverride } from './decision';
import { evaluate, type EvaluationInput } from './evaluate';
import type { PoolSnapshot } from './pool-snapshot';
import { EMPTY_HISTORY, initialHistory, type ScalingHistory } from './scaling-history';
import { snapshotOf } from './snapshot.fixture';

const T0 = 1_700_000_000_000;
const s = (seconds: number) => seconds * 1000;

function policyWith(changes: Record<string, unknown> = {}): ScalingPolicy {
  const result = validatePolicy({ agentType: 'code_gen', minReplicas: 1, maxReplicas: 10, metrics: [{ metric: 'utilization', target: 0.5 }], ...changes }, 7);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.policy;
}

/** Given a pool at `currentReplicas` with these figures (every worker reporting unless said), when it is evaluated. */
function when(input: Partial<Omit<EvaluationInput, 'snapshot'>> & { readonly figures?: Partial<PoolSnapshot> }): Decision {
  const currentReplicas = input.currentReplicas ?? 4;
  return evaluate({
    policy: input.policy ?? policyWith(),
    snapshot: snapshotOf({ reportingWorkers: currentReplicas, ...input.figures }),
    history: input.history ?? EMPTY_HISTORY,
    currentReplicas,
    override: input.override ?? null,
    paused: input.paused ?? false,
    now: input.now ?? T0,
  });
}

const stage = (decision: Decision, name: string) => decision.stages.find((st) => st.stage === name);

describe('evaluate: a decision and why', () => {
  it('scales 4 workers at 60 % of a 50 % target to 5, recording every stage and the policy version', () => {
    const decision = when({ figures: { utilization: 0.6 } });
    expect(decision).toMatchObject({ agentType: 'code_gen', policyVersion: 7, currentReplicas: 4, desiredReplicas: 5, direction: 'up', record: true, budget: null });
    expect(decision.metrics).toEqual([{ metric: 'utilization', target: 0.5, observed: 0.6, usageRatio: expect.closeTo(1.2, 10), replicas: 5, outcome: 'computed', note: null }]);
    expect(decision.recommendation).toEqual({ replicas: 5, source: 'utilization', note: 'utilization proposes the most' });
    expect(decision.stages.map((st) => [st.stage, st.from, st.to])).toEqual([
      ['stabilization', 5, 5],
      ['rate_limit', 5, 5],
      ['bounds', 5, 5],
      ['cooldown', 5, 5],
    ]);
    expect(decision.history).toEqual({ recommendations: [{ at: T0, replicas: 5 }], scaleEvents: [{ at: T0, from: 4, to: 5 }], lastScale: { at: T0, from: 4, to: 5 } });
  });

  it('changes nothing within the tolerance, and has nothing to record', () => {
    expect(when({ figures: { utilization: 0.54 } })).toMatchObject({ desiredReplicas: 4, direction: 'none', record: false });
  });

  it('takes the largest of several metrics', () => {
    const policy = policyWith({ metrics: [{ metric: 'utilization', target: 0.5 }, { metric: 'backlog_per_worker', target: 5 }] });
    expect(when({ policy, figures: { utilization: 0.6, backlog: 40 } })).toMatchObject({ desiredReplicas: 8, recommendation: { source: 'backlog_per_worker' } });
  });

  it('holds a scale-down while a metric is missing, and keeps that recommendation out of the window', () => {
    const policy = policyWith({ metrics: [{ metric: 'utilization', target: 0.5 }, { metric: 'latency_p95', target: 1000 }] });
    const decision = when({ policy, figures: { utilization: 0.1 }, history: initialHistory(4, T0 - s(10)) });
    expect(decision).toMatchObject({ desiredReplicas: 4, record: false, recommendation: { replicas: null } });
    expect(decision.stages).toEqual([]);
    expect(decision.history.recommendations).toEqual([{ at: T0 - s(10), replicas: 4 }]);
  });

  it('stabilizes a scale-down over the last 300 s: the pool stays at 5 until the recommendation of 5 is 300 s old', () => {
    // Given a pool scaled 4 → 5 at T0, then quiet (10 %: a recommendation of 1) at every evaluation a minute apart.
    let decision = when({ figures: { utilization: 0.6 } });
    const sizes = [decision.desiredReplicas];
    for (let minute = 1; minute <= 5; minute++) {
      decision = when({ currentReplicas: decision.desiredReplicas, figures: { utilization: 0.1 }, history: decision.history, now: T0 + s(60 * minute) });
      sizes.push(decision.desiredReplicas);
    }
    expect(sizes).toEqual([5, 5, 5, 5, 5, 1]);
    expect(decision.stages.map((st) => [st.stage, st.from, st.to])).toEqual([
      ['stabilization', 1, 1],
      ['rate_limit', 1, 1],
      ['bounds', 1, 1],
      ['cooldown', 1, 1],
    ]);
  });

  it('limits a scale-up by the rate policies: 2 workers recommended 20 grow to 6 (Kubernetes\' default: 4 pods or 100 % per 15 s)', () => {
    const decision = when({ currentReplicas: 2, figures: { utilization: 1 }, policy: policyWith({ maxReplicas: 30, metrics: [{ metric: 'utilization', target: 0.1 }] }) });
    expect(decision.desiredReplicas).toBe(6);
    expect(stage(decision, 'rate_limit')).toEqual({ stage: 'rate_limit', from: 20, to: 6, note: 'scale-up limit now 6 (selectPolicy Max of 100 % per 15 s, 4 pod(s) per 15 s)' });
  });

  it.each([
    ['up', 0.9, { scaleUp: { selectPolicy: 'Disabled' } }],
    ['down', 0.1, { scaleDown: { selectPolicy: 'Disabled', stabilizationWindowSeconds: 0 } }],
  ])('does not scale %s when that direction is Disabled', (_direction, utilization, behavior) => {
    expect(when({ figures: { utilization }, policy: policyWith({ behavior }) }).desiredReplicas).toBe(4);
  });

  it('clamps to max and min', () => {
    expect(stage(when({ figures: { utilization: 1 }, currentReplicas: 8 }), 'bounds')).toMatchObject({ from: 16, to: 10 });
    const quiet = when({ figures: { utilization: 0 }, policy: policyWith({ minReplicas: 2, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } }) });
    expect(quiet.desiredReplicas).toBe(2);
    expect(stage(quiet, 'bounds')).toMatchObject({ from: 0, to: 2 });
  });

  it('brings a pool outside min..max to the bound at once, past rate limits and cooldowns', () => {
    const policy = policyWith({ behavior: { scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } }, cooldowns: { scaleDownSeconds: 600 } });
    const decision = when({ policy, currentReplicas: 14, figures: { utilization: 0.5 }, history: { ...EMPTY_HISTORY, lastScale: { at: T0 - s(10), from: 13, to: 14 } } });
    expect(decision).toMatchObject({ desiredReplicas: 10, record: true });
    expect(decision.stages).toEqual([{ stage: 'bounds', from: 14, to: 10, note: 'current 14 is outside 1..10: set to the bound at once' }]);
  });

  it('holds a scale-up within the cooldown after the last scale, and lets it through after', () => {
    const policy = policyWith({ cooldowns: { scaleUpSeconds: 120 } });
    const history: ScalingHistory = { ...EMPTY_HISTORY, lastScale: { at: T0 - s(60), from: 3, to: 4 } };
    const held = when({ policy, history, figures: { utilization: 0.8 } });
    expect(held).toMatchObject({ desiredReplicas: 4, record: true });
    expect(stage(held, 'cooldown')).toEqual({ stage: 'cooldown', from: 7, to: 4, note: 'last scale 60 s ago (3 → 4); scale-up cooldown 120 s' });
    expect(when({ policy, history, figures: { utilization: 0.8 }, now: T0 + s(61) }).desiredReplicas).toBe(7);
  });
});

describe('evaluate: manual override and pause', () => {
  const override: ManualOverride = { replicas: 8, reason: 'launch day', expiresAt: T0 + s(600), setBy: 'ops:ana' };

  it('applies the override until it expires, then the policy resumes', () => {
    // Given an override to 8 for ten minutes on a pool the policy keeps at 4.
    const first = when({ figures: { utilization: 0.5 }, override });
    expect(first).toMatchObject({ desiredReplicas: 8, record: true });
    expect(stage(first, 'override')).toEqual({ stage: 'override', from: 4, to: 8, note: 'manual override by ops:ana until 1700000600000: launch day' });
    // While it lasts, the policy's recommendation (4 at 25 %) is recorded but does not apply.
    const during = when({ currentReplicas: 8, figures: { utilization: 0.25 }, override, history: first.history, now: T0 + s(60) });
    expect(during).toMatchObject({ desiredReplicas: 8, record: true, recommendation: { replicas: 4 } });
    // Then, expired, the policy decides again: 4.
    const after = when({ currentReplicas: 8, figures: { utilization: 0.25 }, override, history: during.history, now: T0 + s(700) });
    expect(after.desiredReplicas).toBe(4);
    expect(stage(after, 'override')).toMatchObject({ from: 4, to: 4, note: 'override by ops:ana expired at 1700000600000: the policy decides again' });
  });

  it('keeps a paused pool as it is, saying what the policy would have done', () => {
    const decision = when({ figures: { utilization: 0.8 }, paused: true });
    expect(decision).toMatchObject({ desiredReplicas: 4, direction: 'none', record: true, recommendation: { replicas: 7 } });
    expect(decision.stages.at(-1)).toEqual({ stage: 'pause', from: 7, to: 4, note: 'paused: the pool keeps its size' });
    expect(decision.history.scaleEvents).toEqual([]);
  });

  it('keeps a paused pool as it is even under an override', () => {
    expect(when({ figures: { utilization: 0.5 }, override, paused: true }).desiredReplicas).toBe(4);
  });
});

describe('evaluate: weighted and queue-aware modes', () => {
  it('sizes by the weighted score, still recording each metric\'s own proposal', () => {
    const policy = policyWith({
      metrics: [{ metric: 'utilization', target: 0.7, weight: 3 }, { metric: 'cpu', target: 70, weight: 1 }],
      combine: { mode: 'weighted', scaleUpThreshold: 0.7, scaleDownThreshold: 0.3 },
    });
    // (0.9 × 3 + 0.9) / 4 = 0.9 > 0.7: ⌈4 × 0.9 / 0.5⌉ = 8.
    const decision = when({ policy, figures: { utilization: 0.9, cpuPercentPerWorker: 90 } });
    expect(decision).toMatchObject({ desiredReplicas: 8, weighted: { signal: 'scale_up', replicas: 8 }, recommendation: { source: 'weighted_score' } });
    expect(decision.metrics.map((p) => p.replicas)).toEqual([6, 6]);
  });

  it('joins queue-aware sizing to the metrics: a burst scales the pool while utilization is still within tolerance', () => {
    const policy = policyWith({ maxReplicas: 20, queueAware: { targetWaitMs: 200, model: 'erlang_c' } });
    const decision = when({ policy, figures: { utilization: 0.54, arrivalRatePerSec: 4, meanServiceTimeMs: 1500 } });
    expect(decision.recommendation).toMatchObject({ replicas: 9, source: 'queue_aware' });
    // Kubernetes' default scale-up allows doubling per 15 s: 8 now, the ninth on the next evaluation.
    expect(decision.desiredReplicas).toBe(8);
  });
});

describe('evaluate: bounded history', () => {
  it('keeps only the recommendations the longest window can count: 300 s at one evaluation per 15 s is 20', () => {
    let history = EMPTY_HISTORY;
    for (let i = 0; i < 100; i++) history = when({ figures: { utilization: 0.5 }, history, now: T0 + s(15 * i) }).history;
    expect(history.recommendations).toHaveLength(20);
    expect(history.recommendations[0].at).toBe(T0 + s(15 * 80));
  });
});
