import type { Decision } from '../../services/scaler/src/decisions/domain/decision';
import type { EvaluationInput } from '../../services/scaler/src/decisions/domain/evaluate';
import { mmcWaitMs } from '../../services/scaler/src/decisions/domain/queue-aware';
import type { ScaleEvent } from '../../services/scaler/src/decisions/domain/scaling-history';
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, validatePolicy, type ScalingPolicy, type ScalingPolicyInput, type ScalingRules } from '../../services/scaler/src/policies/domain/scaling-policy';
import type { ArrivalForecasterOptions } from '../../services/scaler/src/forecasting/domain/forecaster-state';
import type { PredictiveAdvisorOptions } from '../../services/scaler/src/forecasting/domain/predictive-advisor';
import type { MetricsView } from './pool-view';

/**
 * The compared autoscalers, each a configuration of the one decision engine (`evaluate`) plus how it
 * sees the pool (its MetricsView) and how often it decides. Every one evaluates every 15 s, HPA's sync
 * period, on the same clock.
 */
export interface ComparedPolicy {
  readonly key: PolicyKey;
  readonly label: string;
  readonly policy: ScalingPolicy;
  readonly view: MetricsView;
  readonly evaluateEveryMs: number;
  /** KEDA: with no replica, only its polling loop (this often) can activate the pool. */
  readonly activationPollMs: number | null;
  readonly predictive: PredictiveSettings | null;
  /** PROTOTYPE only (not in the scaler): what the bench changes around `evaluate`. */
  readonly prototype?: PrototypeSizing;
  /** Why each number, for the printout. */
  readonly rationale: string;
}

export type PolicyKey = 'hpa' | 'keda' | 'reactive' | 'queue_aware' | 'predictive' | PrototypeKey;

export const POLICY_KEYS: readonly PolicyKey[] = ['hpa', 'keda', 'reactive', 'queue_aware', 'predictive'];

/** The policies Flotilla offers, judged against HPA's defaults. */
export const FLOTILLA_KEYS: readonly PolicyKey[] = ['reactive', 'queue_aware', 'predictive'];

export interface PredictiveSettings {
  readonly forecaster: ArrivalForecasterOptions;
  readonly advisor: PredictiveAdvisorOptions;
  readonly horizonMs: number;
  /** What the scaler would have measured as a worker's time to ready (PoolWorkerReady.timeToReadyMs). */
  readonly timeToReadyMs: number;
}

export interface PolicySettings {
  /** The SLO: a task should not wait longer than this for a slot. */
  readonly sloWaitMs: number;
  /** Workers at most: the dispatch topic's partitions, the same for every policy. */
  readonly maxReplicas: number;
  /** Mean service time a policy may assume before it has measured one. */
  readonly defaultServiceTimeMs: number;
  /** Measured median time to ready of a worker. */
  readonly timeToReadyMs: number;
  /** The trace's season (a compressed day), if it has one. */
  readonly seasonMs: number | null;
}

/** The scaler's SCALER_INTERVAL_MS default, and HPA's sync period. */
export const EVALUATE_EVERY_MS = 15_000;
/** The scaler's METRICS_STALE_AFTER_MS default. */
export const SCALER_STALE_AFTER_MS = 20_000;
const AGENT_TYPE = 'code_gen';
/** The forecaster's step: one minute of the bench's clock (half an hour of a day compressed 30×). */
export const FORECAST_STEP_MS = 60_000;

/** autoscaling/v2's behavior defaults, spelled out (validatePolicy would fill the same). */
const asInput = (rules: ScalingRules) => ({ ...rules, policies: rules.policies.map((p) => ({ ...p })) });
const KUBERNETES_BEHAVIOR = { scaleUp: asInput(DEFAULT_SCALE_UP), scaleDown: asInput(DEFAULT_SCALE_DOWN) };

function policyOf(input: Omit<ScalingPolicyInput, 'agentType'>): ScalingPolicy {
  const validation = validatePolicy({ ...input, agentType: AGENT_TYPE });
  if (!validation.ok) throw new Error(`invalid policy: ${validation.problems.map((p) => `${p.field}: ${p.problem}`).join('; ')}`);
  return validation.policy;
}

/**
 * The numbers of Flotilla's three policies that are ours to choose (the engine stays as it is). One
 * reactive policy is shared by the three rows, so that each row adds one thing to the one before.
 */
export interface FlotillaTuning {
  readonly backlogPerWorker: number;
  readonly utilization: number;
  readonly scaleUpWindowSeconds: number;
  readonly scaleUpPodsPer15s: number;
  readonly scaleDownWindowSeconds: number;
  readonly scaleDownPods: number;
  readonly scaleDownPeriodSeconds: number;
  /** Erlang C's mean-wait target, as a share of the SLO's wait target. */
  readonly queueAwareShareOfSlo: number;
  /**
   * Null: the scaler's own snapshot (each worker's newest report). A number: rates and utilization
   * over the reports of that many ms instead (not what the scaler does today; see the README).
   */
  readonly rateWindowMs: number | null;
  /** The predictive horizon, in forecaster steps. */
  readonly horizonSteps: number;
}

export const FLOTILLA_TUNING: FlotillaTuning = {
  // Three tasks waiting per two-slot worker is about 3 s of wait at 2 s a task, inside the 5 s SLO.
  // Unlike utilization (which cannot read above 100 %) it grows with the overload, so one evaluation
  // asks for what the queue needs: this is what makes the reactive policy faster than HPA after a step.
  backlogPerWorker: 3,
  // HPA's own target. At 6 to 12 slots, M/M/c at 80 % waits 0.9 to 0.3 s on average and P(wait > 5 s)
  // is 2.6 to 0.1 % (with exponential service; ours varies less): the SLO needs no lower target in a
  // steady state, and the backlog term covers surges.
  utilization: 0.8,
  // No scale-up window. At evaluations 15 s apart the shortest window that holds anything is 30 s (the
  // engine counts recommendations strictly younger than the window), and it delays every scale-up by
  // one evaluation: on these traces that cost more SLO-violations than the noise it filters saves.
  scaleUpWindowSeconds: 0,
  // Up to +6 workers (the partitions' cap) per 15 s: a worker takes ~6 s to start, and a second round
  // of scale-up costs another 15 s of queue. The cap bounds any runaway.
  scaleUpPodsPer15s: 6,
  // The highest recommendation of the last 3 minutes, then one worker per 30 s: a dip of a minute keeps
  // its workers; a real fall gives them back sooner than HPA's 5 minutes. It also holds the highs of
  // the 5 s reports' noise for 3 minutes, which queue-aware sizing pays for (its λ and S come from them);
  // 60 s is cheaper but makes about three times as many scale actions as HPA.
  scaleDownWindowSeconds: 180,
  scaleDownPods: 1,
  scaleDownPeriodSeconds: 30,
  // Erlang C asked for the SLO's own target (a mean, where the SLO bounds each wait: a looser ask).
  queueAwareShareOfSlo: 1,
  // What the scaler does today: each worker's newest 5 s report. One 5 s window holds about ten tasks
  // of a small pool, so its arrival rate and Little's-law service time swing by a third or more.
  rateWindowMs: null,
  // Two forecaster steps (120 s): covers the next evaluation plus a worker's start-up, at the
  // forecaster's one-step resolution.
  horizonSteps: 2,
};

function reactiveInput(settings: PolicySettings, t: FlotillaTuning): Omit<ScalingPolicyInput, 'agentType'> {
  return {
    minReplicas: 1,
    maxReplicas: settings.maxReplicas,
    metrics: [
      { metric: 'backlog_per_worker', target: t.backlogPerWorker },
      { metric: 'utilization', target: t.utilization },
    ],
    combine: { mode: 'max' },
    tolerance: 0.1,
    behavior: {
      scaleUp: {
        stabilizationWindowSeconds: t.scaleUpWindowSeconds,
        selectPolicy: 'Max',
        policies: [{ type: 'Pods', value: t.scaleUpPodsPer15s, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
      },
      scaleDown: { stabilizationWindowSeconds: t.scaleDownWindowSeconds, selectPolicy: 'Max', policies: [{ type: 'Pods', value: t.scaleDownPods, periodSeconds: t.scaleDownPeriodSeconds }] },
    },
  };
}

export function comparedPolicies(settings: PolicySettings, tuning: FlotillaTuning = FLOTILLA_TUNING): ComparedPolicy[] {
  const reactive = reactiveInput(settings, tuning);
  const queueAwareTargetMs = Math.round(settings.sloWaitMs * tuning.queueAwareShareOfSlo);
  const queueAware = { ...reactive, queueAware: { model: 'erlang_c' as const, targetWaitMs: queueAwareTargetMs, defaultServiceTimeMs: settings.defaultServiceTimeMs } };
  const horizonMs = tuning.horizonSteps * FORECAST_STEP_MS;
  const seasonLengthSteps = settings.seasonMs !== null ? Math.max(2, Math.round(settings.seasonMs / FORECAST_STEP_MS)) : 1440;
  const reportsView: MetricsView =
    tuning.rateWindowMs === null ? { kind: 'scaler', staleAfterMs: SCALER_STALE_AFTER_MS } : { kind: 'windowed', windowMs: tuning.rateWindowMs, scrape: null, backlog: 'reported' };
  const seen =
    tuning.rateWindowMs === null
      ? `sees what the scaler's snapshotOf makes of its workers' newest reports (forgotten after ${SCALER_STALE_AFTER_MS / 1000} s)`
      : `backlog from each worker's latest report, rates and utilization over the last ${tuning.rateWindowMs / 1000} s of reports`;
  const common = { evaluateEveryMs: EVALUATE_EVERY_MS, activationPollMs: null, predictive: null };
  return [
    {
      ...common,
      key: 'hpa',
      label: 'HPA defaults',
      policy: policyOf({ minReplicas: 1, maxReplicas: settings.maxReplicas, metrics: [{ metric: 'utilization', target: 0.8 }], behavior: KUBERNETES_BEHAVIOR }),
      // metrics-server at its upstream --metric-resolution of 15 s, scraped out of phase with the 15 s sync.
      view: { kind: 'windowed', windowMs: 15_000, scrape: { periodMs: 15_000, phaseMs: 7_500 }, backlog: 'reported' },
      rationale:
        'kubectl autoscale with no --cpu-percent: utilization target 80 %, tolerance 0.1, autoscaling/v2 behavior defaults ' +
        '(up: 100 % or 4 pods per 15 s, no window; down: 300 s window, 100 % per 15 s), 15 s sync; utilization (busy slots, ' +
        'the analogue of CPU for this pool) averaged over a 15 s metrics-server scrape; workers not ready yet are missing pods',
    },
    {
      ...common,
      key: 'keda',
      label: 'KEDA Kafka',
      policy: policyOf({ minReplicas: 0, maxReplicas: settings.maxReplicas, metrics: [{ metric: 'backlog_per_worker', target: 10 }], behavior: KUBERNETES_BEHAVIOR }),
      view: { kind: 'windowed', windowMs: 15_000, scrape: null, backlog: 'uncommitted' },
      activationPollMs: 30_000,
      rationale:
        "Kafka scaler defaults: lag (of committed offsets) per replica AverageValue lagThreshold 10, activation at lag > 0 " +
        '(activationLagThreshold 0) checked every pollingInterval 30 s, back to zero when the lag stayed 0 for the 300 s ' +
        '(cooldownPeriod and the HPA window coincide), replicas capped at the partitions (allowIdleConsumers false), HPA behavior defaults',
    },
    {
      ...common,
      key: 'reactive',
      label: 'Flotilla reactive',
      policy: policyOf(reactive),
      view: reportsView,
      rationale:
        `backlog_per_worker ${tuning.backlogPerWorker} + utilization ${tuning.utilization} (HPA's max of the two), tolerance 0.1; scale-up: ` +
        `window ${tuning.scaleUpWindowSeconds} s, up to +${tuning.scaleUpPodsPer15s} workers or +100 % per 15 s; scale-down: window ` +
        `${tuning.scaleDownWindowSeconds} s, ${tuning.scaleDownPods} worker per ${tuning.scaleDownPeriodSeconds} s; ${seen}`,
    },
    {
      ...common,
      key: 'queue_aware',
      label: 'Flotilla queue-aware',
      policy: policyOf(queueAware),
      view: reportsView,
      rationale: `reactive + M/M/c (erlang_c) sizing for a mean wait of ${queueAwareTargetMs} ms from the reported arrival rate and service time`,
    },
    {
      ...common,
      key: 'predictive',
      label: 'Flotilla predictive',
      policy: policyOf({ ...queueAware, predictive: { mode: 'forecast_and_scale', horizonSeconds: horizonMs / 1000 } }),
      view: reportsView,
      predictive: {
        forecaster: { stepMs: FORECAST_STEP_MS, seasonLengthSteps, scoredLeadSteps: horizonMs / FORECAST_STEP_MS },
        // An error below a quarter of one worker's service rate does not matter for capacity.
        advisor: { errorFloorRatePerSec: 0.25 },
        horizonMs,
        timeToReadyMs: settings.timeToReadyMs,
      },
      rationale:
        `queue-aware + the arrival forecaster (step ${FORECAST_STEP_MS / 1000} s, season: the trace's season_ms; without one it never ` +
        `becomes seasonal and the row acts as queue-aware) in ` +
        `forecast_and_scale: sized for the highest forecast between now + time to ready (${Math.round(settings.timeToReadyMs)} ms) ` +
        `and now + ${horizonMs / 1000} s, never below the reactive proposal`,
    },
  ];
}

// ---- PROTOTYPES: scaler ideas tried in the bench only (--prototypes). The scaler does none of this.

export type PrototypeKey = 'proto_divisors' | 'proto_worker_even' | 'proto_worker_busiest' | 'proto_worker_busiest_divisors';

export const PROTOTYPE_KEYS: readonly PrototypeKey[] = ['proto_divisors', 'proto_worker_even', 'proto_worker_busiest', 'proto_worker_busiest_divisors'];

/**
 * What a prototype changes around the unchanged engine:
 *
 * - `divisorReplicas` (idea a): only replica counts that divide the partitions (1, 2, 3, 6 of 6), so
 *   that every worker owns as many partitions as the others. A scale-up goes to the next such count
 *   at or above the engine's; a scale-down (when the engine scales down at all) goes one such count
 *   down, not below the stabilized recommendation rounded up to one, the rate limit counted in those
 *   steps (6 to 3 at once). The history records the change made.
 * - `perWorker` (idea b): queue-aware sizing per worker instead of one M/M/c over every slot: the
 *   fewest workers n whose M/M/c with c = one worker's slots keeps the mean wait under the policy's
 *   target, at λ/n (`even`) or at the rate of the busiest worker's partitions, λ·⌈P/n⌉/P (`busiest`).
 *   It replaces the engine's erlang_c proposal and enters the engine as an arrival_rate metric
 *   whose target makes ⌈λ / target⌉ that n (0.01 short of it, so HPA's tolerance of 0.1 never
 *   holds it below 10 workers); stabilization, rate limits and bounds are the engine's.
 */
export interface PrototypeSizing {
  readonly divisorReplicas: boolean;
  readonly perWorker: 'even' | 'busiest' | null;
}

/** The prototypes, each the queue-aware row with one idea or two. */
export function prototypePolicies(settings: PolicySettings, partitions: number, tuning: FlotillaTuning = FLOTILLA_TUNING): ComparedPolicy[] {
  const queueAware = comparedPolicies(settings, tuning).find((c) => c.key === 'queue_aware')!;
  const divisors = divisorsOf(partitions, 1, settings.maxReplicas).join(', ');
  const row = (key: PrototypeKey, label: string, prototype: PrototypeSizing, rationale: string): ComparedPolicy => ({ ...queueAware, key, label, prototype, rationale: `PROTOTYPE: ${rationale}` });
  return [
    row('proto_divisors', 'proto (a) divisors', { divisorReplicas: true, perWorker: null }, `queue-aware, replicas only ${divisors} (divisors of ${partitions} partitions): up to the next, down one at a time`),
    row('proto_worker_even', 'proto (b) per-worker', { divisorReplicas: false, perWorker: 'even' }, 'reactive + M/M/c per worker (c = its slots) at λ/workers instead of one M/M/c over every slot'),
    row('proto_worker_busiest', 'proto (b) busiest', { divisorReplicas: false, perWorker: 'busiest' }, `reactive + M/M/c per worker at the busiest worker's share of the partitions, λ·⌈${partitions}/n⌉/${partitions}`),
    row('proto_worker_busiest_divisors', 'proto (a)+(b) busiest', { divisorReplicas: true, perWorker: 'busiest' }, 'both: per-worker M/M/c at the busiest share, replicas only divisors of the partitions'),
  ];
}

/** Divisors of `partitions` within [min, max], plus `max` (the top a pool may reach). */
export function divisorsOf(partitions: number, min: number, max: number): number[] {
  const out: number[] = [];
  for (let d = Math.max(1, min); d <= max; d++) if (partitions % d === 0 || d === max) out.push(d);
  return out;
}

/** The fewest workers (1..max) whose own M/M/c (c = slotsPerWorker) keeps the mean wait at most `targetWaitMs`; max if none. */
export function perWorkerWorkers(arrivalRatePerSec: number, serviceTimeMs: number, targetWaitMs: number, slotsPerWorker: number, partitions: number, maxReplicas: number, share: 'even' | 'busiest'): number {
  if (arrivalRatePerSec <= 0) return 0;
  for (let n = 1; n <= maxReplicas; n++) {
    const fraction = share === 'even' ? 1 / n : Math.ceil(partitions / n) / partitions;
    if (mmcWaitMs(slotsPerWorker, arrivalRatePerSec * fraction, serviceTimeMs) <= targetWaitMs) return n;
  }
  return maxReplicas;
}

/** Idea b: the input with the engine's erlang_c proposal replaced by the per-worker one (as an arrival_rate metric). */
export function prototypeInput(input: EvaluationInput, prototype: PrototypeSizing, partitions: number): EvaluationInput {
  const { policy, snapshot } = input;
  if (prototype.perWorker === null || policy.queueAware === null) return input;
  const lambda = snapshot.arrivalRatePerSec;
  const serviceMs = snapshot.meanServiceTimeMs !== null && Number.isFinite(snapshot.meanServiceTimeMs) ? snapshot.meanServiceTimeMs : policy.queueAware.defaultServiceTimeMs;
  let target = 1;
  if (lambda !== null && lambda > 0 && serviceMs !== null) {
    const n = perWorkerWorkers(lambda, serviceMs, policy.queueAware.targetWaitMs, Math.max(1, snapshot.slotsPerWorker), partitions, policy.maxReplicas, prototype.perWorker);
    target = lambda / (n - 0.01);
  }
  return { ...input, policy: { ...policy, queueAware: null, metrics: [...policy.metrics, { metric: 'arrival_rate', target, weight: 1, capacity: null }] } };
}

/** Idea a: the engine's decision moved to a replica count that divides the partitions, its history with the change made. */
export function prototypeDecision(decision: Decision, input: EvaluationInput, prototype: PrototypeSizing, partitions: number): Decision {
  if (!prototype.divisorReplicas) return decision;
  const { currentReplicas: current, now, policy } = input;
  const allowed = divisorsOf(partitions, policy.minReplicas, policy.maxReplicas);
  const up = (x: number) => allowed.find((d) => d >= x) ?? policy.maxReplicas;
  let desired = decision.desiredReplicas;
  if (desired > current) desired = up(desired);
  else if (desired < current) {
    const stabilized = decision.stages.find((s) => s.stage === 'stabilization')?.to ?? desired;
    const floor = up(Math.max(policy.minReplicas, stabilized));
    const below = [...allowed].reverse().find((d) => d < current) ?? policy.minReplicas;
    desired = floor < current ? Math.max(floor, below) : current;
  }
  if (desired === decision.desiredReplicas) return decision;
  const engineScaled = decision.desiredReplicas !== current;
  const kept = engineScaled ? decision.history.scaleEvents.filter((e) => e.at !== now) : decision.history.scaleEvents;
  const event: ScaleEvent | null = desired !== current ? { at: now, from: current, to: desired } : null;
  return {
    ...decision,
    desiredReplicas: desired,
    direction: desired > current ? 'up' : desired < current ? 'down' : 'none',
    history: { ...decision.history, scaleEvents: event ? [...kept, event] : kept, lastScale: event ?? input.history.lastScale },
  };
}
