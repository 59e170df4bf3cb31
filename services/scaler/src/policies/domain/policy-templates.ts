import { validatePolicy, type PolicyValidation, type ScalingPolicyInput } from './scaling-policy';

/**
 * The six named starting points of the seeds, each a complete weighted policy. The thresholds are
 * the seeds' (balanced 70/30, aggressive 60/40, api-performance 60/40, batch 80/20, ml-gpu 75/25,
 * dev-minimal 90/10); cooldowns sit in the seeds' 2–15 minutes. The remaining numbers are ours,
 * with the reason beside each. Latency and memory depend on the agent type: adjust them to the
 * pool's usual task time and worker size before relying on those terms.
 */
export const TEMPLATE_NAMES = ['web-app-balanced', 'web-app-aggressive', 'api-performance', 'batch-cost-optimized', 'ml-gpu', 'dev-minimal'] as const;

export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export interface PolicyTemplate {
  readonly name: TemplateName;
  /** What workload it is for. */
  readonly purpose: string;
  /** Everything of the policy but the agent type. */
  readonly spec: Omit<ScalingPolicyInput, 'agentType'>;
}

export const POLICY_TEMPLATES: Readonly<Record<TemplateName, PolicyTemplate>> = {
  'web-app-balanced': {
    name: 'web-app-balanced',
    purpose: 'steady interactive traffic: the general-purpose default',
    spec: {
      // One worker always warm; ten cover an order of magnitude of growth.
      minReplicas: 1,
      maxReplicas: 10,
      // 70/30 (seeds); a scale lands the score at 0.5, as far from either threshold, so it does not bounce.
      combine: { mode: 'weighted', scaleUpThreshold: 0.7, scaleDownThreshold: 0.3, targetScore: 0.5 },
      metrics: [
        // Busy slots are the most direct load signal, so they weigh most.
        { metric: 'utilization', target: 0.7, weight: 3 },
        // A queue per worker shows demand that utilization (capped at 1) cannot: full at 10 waiting tasks per worker.
        { metric: 'backlog_per_worker', target: 4, weight: 2, capacity: 10 },
        { metric: 'cpu', target: 70, weight: 1 },
        // Failures count a little: more workers rarely fix errors, but overload causes some.
        { metric: 'error_rate', target: 0.05, weight: 1 },
      ],
      // Kubernetes' behavior defaults; two minutes between scale-ups, five between scale-downs.
      cooldowns: { scaleUpSeconds: 120, scaleDownSeconds: 300 },
    },
  },
  'web-app-aggressive': {
    name: 'web-app-aggressive',
    purpose: 'high, spiky traffic where slowness costs more than spare workers',
    spec: {
      minReplicas: 2,
      maxReplicas: 30,
      // 60/40 (seeds): a narrow band around 0.5 keeps headroom and reacts early in both directions.
      combine: { mode: 'weighted', scaleUpThreshold: 0.6, scaleDownThreshold: 0.4, targetScore: 0.5 },
      metrics: [
        { metric: 'utilization', target: 0.6, weight: 3 },
        // The backlog leads utilization in a spike, so it weighs as much.
        { metric: 'backlog_per_worker', target: 2, weight: 3, capacity: 5 },
        { metric: 'latency_p95', target: 3000, weight: 1 },
      ],
      behavior: {
        // Double, or add 8 workers, every 15 s, whichever is more.
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 8, periodSeconds: 15 }] },
        // Give back half a minute's worth at most, after two minutes of lower recommendations.
        scaleDown: { stabilizationWindowSeconds: 120, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
      },
      cooldowns: { scaleUpSeconds: 120, scaleDownSeconds: 180 },
    },
  },
  'api-performance': {
    name: 'api-performance',
    purpose: 'latency-sensitive pools that answer someone waiting: keep the queue wait short',
    spec: {
      // Two warm workers: no cold start on the first request, and one can fail.
      minReplicas: 2,
      maxReplicas: 20,
      combine: { mode: 'weighted', scaleUpThreshold: 0.6, scaleDownThreshold: 0.4, targetScore: 0.5 },
      metrics: [
        // Latency is what the pool is judged by: p95 at 1 s, full at the seeds' 5 s.
        { metric: 'latency_p95', target: 1000, weight: 3 },
        { metric: 'utilization', target: 0.6, weight: 2 },
        { metric: 'error_rate', target: 0.02, weight: 1 },
      ],
      // M/M/c sizing keeps the expected wait for a slot under 200 ms as soon as arrivals rise.
      queueAware: { targetWaitMs: 200, model: 'erlang_c' },
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }] },
        // Shed one worker a minute after ten minutes of lower recommendations: a dip is not the end of the load.
        scaleDown: { stabilizationWindowSeconds: 600, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
      },
      cooldowns: { scaleUpSeconds: 120, scaleDownSeconds: 600 },
    },
  },
  'batch-cost-optimized': {
    name: 'batch-cost-optimized',
    purpose: 'batch work that can wait: run few workers busy, and none when there is nothing to do',
    spec: {
      // Scale to zero when idle; the backlog brings the pool back.
      minReplicas: 0,
      maxReplicas: 20,
      // 80/20 (seeds): add workers only when busy, remove them only when nearly idle; land high, at 0.65.
      combine: { mode: 'weighted', scaleUpThreshold: 0.8, scaleDownThreshold: 0.2, targetScore: 0.65 },
      metrics: [
        { metric: 'backlog_per_worker', target: 20, weight: 3, capacity: 25 },
        { metric: 'utilization', target: 0.8, weight: 2 },
      ],
      // The fluid estimate suffices for batch: clear what waits within ten minutes.
      queueAware: { targetWaitMs: 600_000, model: 'littles_law', defaultServiceTimeMs: 30_000 },
      behavior: {
        // Two workers a minute: the backlog waits anyway, and it keeps a burst from buying a fleet.
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] },
        scaleDown: { stabilizationWindowSeconds: 600, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
      },
      cooldowns: { scaleUpSeconds: 300, scaleDownSeconds: 600 },
    },
  },
  'ml-gpu': {
    name: 'ml-gpu',
    purpose: 'expensive workers that start slowly (model loading): add one at a time, keep them a while',
    spec: {
      minReplicas: 1,
      maxReplicas: 8,
      // 75/25 (seeds); lands at 0.6, busy enough to justify the hardware.
      combine: { mode: 'weighted', scaleUpThreshold: 0.75, scaleDownThreshold: 0.25, targetScore: 0.6 },
      metrics: [
        { metric: 'utilization', target: 0.75, weight: 3 },
        // Resident memory of a worker holding a model: full at 16 GiB.
        { metric: 'memory', target: 12_288, weight: 2, capacity: 16_384 },
        { metric: 'backlog_per_worker', target: 2, weight: 2, capacity: 4 },
      ],
      behavior: {
        // One worker per two minutes, and only if the need held for a minute: a worker costs minutes to become useful.
        scaleUp: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] },
        // Fifteen minutes of lower recommendations, then one worker per five minutes.
        scaleDown: { stabilizationWindowSeconds: 900, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 300 }] },
      },
      cooldowns: { scaleUpSeconds: 300, scaleDownSeconds: 900 },
    },
  },
  'dev-minimal': {
    name: 'dev-minimal',
    purpose: 'development and test environments: as little as possible, scale only when saturated',
    spec: {
      minReplicas: 0,
      maxReplicas: 2,
      // 90/10 (seeds): scale up only when saturated, down only when idle.
      combine: { mode: 'weighted', scaleUpThreshold: 0.9, scaleDownThreshold: 0.1, targetScore: 0.6 },
      metrics: [
        { metric: 'utilization', target: 0.9, weight: 1 },
        { metric: 'backlog_per_worker', target: 5, weight: 1, capacity: 10 },
      ],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
        scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 300 }] },
      },
      cooldowns: { scaleUpSeconds: 120, scaleDownSeconds: 900 },
    },
  },
};

/** The template as a complete policy for `agentType`, validated like any policy (an unknown agent type is a problem). */
export function policyFromTemplate(name: TemplateName, agentType: string, version = 1): PolicyValidation {
  return validatePolicy({ ...POLICY_TEMPLATES[name].spec, agentType }, version);
}
