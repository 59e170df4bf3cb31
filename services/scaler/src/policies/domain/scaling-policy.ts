import { AGENT_TYPES, isAgentType } from '@flotilla/contracts';
import type { FieldProblem } from '@flotilla/domain';
import { z } from 'zod';
import { crossFieldProblems, type PolicyView } from './policy-rules';
import { SCALING_METRICS, type ScalingMetric } from './scaling-metrics';

/**
 * A pool's scaling policy: bounds, the metrics with their targets, how their proposals combine, and
 * HPA v2's `behavior` (stabilization windows and rate policies, with Kubernetes' defaults). Ops edit
 * it over HTTP; every edit is an event, and `version` is the policy stream's version, so a recorded
 * decision names the policy it followed.
 */
export interface ScalingPolicy {
  readonly agentType: string;
  readonly version: number;
  /** 0 allows scaling to zero (the policy must then name a metric that sees demand with no worker). */
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly metrics: readonly MetricTarget[];
  readonly combine: CombineRule;
  /** HPA's tolerance: a usage ratio within 1 ± tolerance proposes no change. Kubernetes' default 0.1. */
  readonly tolerance: number;
  readonly behavior: ScalingBehavior;
  readonly cooldowns: Cooldowns;
  /** Size from arrival rate and service time so that queue wait stays under a target; null = off. */
  readonly queueAware: QueueAwareSizing | null;
  /** Configuration only: forecasting reads it, the decision engine does not. */
  readonly predictive: PredictiveScaling;
}

export interface MetricTarget {
  readonly metric: ScalingMetric;
  /** In the metric's unit (METRIC_INFO): the value per worker, or for the pool, that the policy aims at. */
  readonly target: number;
  /** Its share in the weighted score; must be above 0 in weighted mode. */
  readonly weight: number;
  /** The value that counts as full in the weighted score; null = the metric's default capacity. */
  readonly capacity: number | null;
}

/**
 * `max`: HPA's rule, the largest proposal of any metric wins. `weighted`: the seeds' weighted score
 * (each metric as a fraction of its capacity, weighted mean) leaves the band between the thresholds,
 * and the pool is sized by HPA's ratio formula on the score so that it lands at `targetScore`.
 */
export type CombineRule =
  | { readonly mode: 'max' }
  | { readonly mode: 'weighted'; readonly scaleUpThreshold: number; readonly scaleDownThreshold: number; readonly targetScore: number };

export type RatePolicyType = 'Pods' | 'Percent';
export type SelectPolicy = 'Max' | 'Min' | 'Disabled';

/** HPA v2's HPAScalingPolicy: at most `value` pods, or `value` percent, of change per `periodSeconds`. */
export interface RatePolicy {
  readonly type: RatePolicyType;
  readonly value: number;
  readonly periodSeconds: number;
}

/** HPA v2's HPAScalingRules for one direction. */
export interface ScalingRules {
  /** Recommendations of this long ago still count: the lowest for scale-up, the highest for scale-down. */
  readonly stabilizationWindowSeconds: number;
  /** Which policy's limit applies: the largest change (Max), the smallest (Min), or none (Disabled). */
  readonly selectPolicy: SelectPolicy;
  readonly policies: readonly RatePolicy[];
  /** This direction's tolerance (Kubernetes 1.33+); null = the policy's `tolerance`. */
  readonly tolerance: number | null;
}

export interface ScalingBehavior {
  readonly scaleUp: ScalingRules;
  readonly scaleDown: ScalingRules;
}

/** Kubernetes' defaults (autoscaling/v2): scale up by 100 % or 4 pods per 15 s, whichever is more, at once. */
export const DEFAULT_SCALE_UP: ScalingRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ],
  tolerance: null,
};

/** Kubernetes' defaults: scale down to any size, but only to the highest recommendation of the last 5 minutes. */
export const DEFAULT_SCALE_DOWN: ScalingRules = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  tolerance: null,
};

/** No scale in a direction until this long after the last scale event (either direction); 0 = none. */
export interface Cooldowns {
  readonly scaleUpSeconds: number;
  readonly scaleDownSeconds: number;
}

export interface QueueAwareSizing {
  /** The longest acceptable expected wait for a slot. */
  readonly targetWaitMs: number;
  /** `littles_law`: the fluid estimate (busy slots λ·S); `erlang_c`: M/M/c, the smallest c with W_q ≤ target. */
  readonly model: 'littles_law' | 'erlang_c';
  /** Mean service time to assume when the snapshot has none (no worker, nothing finished); null = none. */
  readonly defaultServiceTimeMs: number | null;
}

export interface PredictiveScaling {
  readonly mode: 'off' | 'forecast_only' | 'forecast_and_scale';
  readonly horizonSeconds: number;
}

/** Bounds that keep one evaluation cheap: queue-aware sizing walks at most maxReplicas × slots servers. */
export const MAX_REPLICAS_LIMIT = 1000;
/** Kubernetes' validation: stabilization windows up to one hour, policy periods up to 30 minutes. */
export const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
export const MAX_POLICY_PERIOD_SECONDS = 1800;

const ratePolicySchema = z
  .object({
    type: z.enum(['Pods', 'Percent']),
    value: z.number().int().positive(),
    periodSeconds: z.number().int().min(1).max(MAX_POLICY_PERIOD_SECONDS),
  })
  .strict();

const rulesSchema = (defaults: ScalingRules) =>
  z
    .object({
      stabilizationWindowSeconds: z.number().int().min(0).max(MAX_STABILIZATION_WINDOW_SECONDS).default(defaults.stabilizationWindowSeconds),
      selectPolicy: z.enum(['Max', 'Min', 'Disabled']).default(defaults.selectPolicy),
      policies: z.array(ratePolicySchema).max(10).default(() => defaults.policies.map((p) => ({ ...p }))),
      tolerance: z.number().min(0).max(1).nullable().default(defaults.tolerance),
    })
    .strict()
    .default({});

const metricTargetSchema = z
  .object({
    metric: z.enum(SCALING_METRICS),
    target: z.number().positive(),
    weight: z.number().min(0).default(1),
    capacity: z.number().positive().nullable().default(null),
  })
  .strict();

const threshold = z.number().min(0).max(1);

const combineSchema = z
  .discriminatedUnion('mode', [
    z.object({ mode: z.literal('max') }).strict(),
    z
      .object({ mode: z.literal('weighted'), scaleUpThreshold: threshold, scaleDownThreshold: threshold, targetScore: threshold.nullable().default(null) })
      .strict(),
  ])
  .default({ mode: 'max' });

const queueAwareSchema = z
  .object({
    targetWaitMs: z.number().positive(),
    model: z.enum(['littles_law', 'erlang_c']).default('erlang_c'),
    defaultServiceTimeMs: z.number().positive().nullable().default(null),
  })
  .strict();

/** What ops send (everything but the version); also the source of the OpenAPI schema. */
export const scalingPolicyInputSchema = z
  .object({
    agentType: z.string().refine(isAgentType, { message: `must be a known agent type (${AGENT_TYPES.join(', ')})` }),
    minReplicas: z.number().int().min(0).default(1),
    maxReplicas: z.number().int().min(1).max(MAX_REPLICAS_LIMIT),
    metrics: z.array(metricTargetSchema).max(SCALING_METRICS.length).default([]),
    combine: combineSchema,
    tolerance: z.number().min(0).max(1).default(0.1),
    behavior: z.object({ scaleUp: rulesSchema(DEFAULT_SCALE_UP), scaleDown: rulesSchema(DEFAULT_SCALE_DOWN) }).strict().default({}),
    cooldowns: z
      .object({
        scaleUpSeconds: z.number().int().min(0).max(MAX_STABILIZATION_WINDOW_SECONDS).default(0),
        scaleDownSeconds: z.number().int().min(0).max(MAX_STABILIZATION_WINDOW_SECONDS).default(0),
      })
      .strict()
      .default({}),
    queueAware: queueAwareSchema.nullable().default(null),
    predictive: z
      .object({ mode: z.enum(['off', 'forecast_only', 'forecast_and_scale']).default('off'), horizonSeconds: z.number().int().positive().max(86_400).default(900) })
      .strict()
      .default({}),
  })
  .strict();

export type ScalingPolicyInput = z.input<typeof scalingPolicyInputSchema>;

export type PolicyValidation = { readonly ok: true; readonly policy: ScalingPolicy } | { readonly ok: false; readonly problems: readonly FieldProblem[] };

/**
 * Validates a policy as ops send it and fills Kubernetes' defaults, or names every problem: each
 * field the schema refuses, and every rule between fields (min ≤ max, thresholds in order, weights in
 * weighted mode, what scaling from zero needs, …) whose fields are themselves valid. Field names are
 * paths such as `metrics[1].target` or `behavior.scaleDown.policies[0].value`.
 */
export function validatePolicy(input: unknown, version = 1): PolicyValidation {
  const parsed = scalingPolicyInputSchema.safeParse(input);
  const problems: FieldProblem[] = parsed.success ? [] : parsed.error.issues.flatMap(issueProblems);
  // Rules between fields need an object to look into; anything else is one problem, said by the schema.
  if (isRecord(input)) problems.push(...crossFieldProblems(viewOf(input)));
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  const { combine, ...rest } = parsed.data;
  const resolved: CombineRule =
    combine.mode === 'max' ? combine : { ...combine, targetScore: combine.targetScore ?? (combine.scaleUpThreshold + combine.scaleDownThreshold) / 2 };
  return { ok: true, policy: { ...rest, combine: resolved, version } };
}

/** `metrics[1].target` from zod's path `['metrics', 1, 'target']`; `(body)` for the whole input. */
export function fieldName(path: readonly (string | number)[]): string {
  return path.reduce<string>((name, part) => (typeof part === 'number' ? `${name}[${part}]` : name ? `${name}.${part}` : part), '') || '(body)';
}

function issueProblems(issue: z.ZodIssue): FieldProblem[] {
  // An unknown field is named itself, rather than the object that holds it (as service-kit's parseInput does).
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: fieldName([...issue.path, key]), problem: `unknown field '${key}'` }));
  return [{ field: fieldName(issue.path), problem: issue.message }];
}

/** The value if it passes `schema` on its own, else undefined: cross-field rules look only at valid fields. */
function peek<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown): T | undefined {
  const result = schema.safeParse(value);
  return result.success ? result.data : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

const shape = scalingPolicyInputSchema.shape;

/** The input's individually valid fields, with defaults where a field is absent. */
function viewOf(raw: Record<string, unknown>): PolicyView {
  const combine = record(raw.combine);
  const behavior = record(raw.behavior);
  const rules = (value: unknown, defaults: ScalingRules) => {
    const r = record(value);
    const policies = r.policies === undefined ? defaults.policies : Array.isArray(r.policies) ? r.policies : undefined;
    return {
      selectPolicy: r.selectPolicy === undefined ? defaults.selectPolicy : peek(z.enum(['Max', 'Min', 'Disabled']), r.selectPolicy),
      policies: policies?.map((p) => ({ type: peek(ratePolicySchema.shape.type, record(p).type), value: peek(ratePolicySchema.shape.value, record(p).value) })),
    };
  };
  return {
    minReplicas: peek(shape.minReplicas, raw.minReplicas),
    maxReplicas: peek(shape.maxReplicas, raw.maxReplicas),
    metrics: (raw.metrics === undefined ? [] : Array.isArray(raw.metrics) ? raw.metrics : undefined)?.map((m) => ({
      metric: peek(metricTargetSchema.shape.metric, record(m).metric),
      target: peek(metricTargetSchema.shape.target, record(m).target),
      weight: peek(metricTargetSchema.shape.weight, record(m).weight),
      capacity: peek(metricTargetSchema.shape.capacity, record(m).capacity),
    })),
    combineMode: raw.combine === undefined ? 'max' : peek(z.enum(['max', 'weighted']), combine.mode),
    scaleUpThreshold: peek(threshold, combine.scaleUpThreshold),
    scaleDownThreshold: peek(threshold, combine.scaleDownThreshold),
    targetScore: peek(threshold.nullable().default(null), combine.targetScore),
    queueAware: raw.queueAware === undefined ? null : peek(queueAwareSchema.nullable(), raw.queueAware),
    scaleUp: rules(behavior.scaleUp, DEFAULT_SCALE_UP),
    scaleDown: rules(behavior.scaleDown, DEFAULT_SCALE_DOWN),
  };
}
