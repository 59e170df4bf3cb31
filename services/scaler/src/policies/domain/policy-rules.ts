import type { FieldProblem } from '@flotilla/domain';
import { METRIC_INFO, type ScalingMetric } from './scaling-metrics';
import type { QueueAwareSizing, RatePolicyType, SelectPolicy } from './scaling-policy';

/**
 * A policy input as the rules between fields see it: each field that is valid on its own, defaults
 * where the input leaves a field out, and undefined where the field itself is invalid (its own
 * problem is reported by the schema; a rule that needs it is skipped rather than reported twice).
 */
export interface PolicyView {
  readonly minReplicas?: number;
  readonly maxReplicas?: number;
  readonly metrics?: readonly { readonly metric?: ScalingMetric; readonly target?: number; readonly weight?: number; readonly capacity?: number | null }[];
  readonly combineMode?: 'max' | 'weighted';
  readonly scaleUpThreshold?: number;
  readonly scaleDownThreshold?: number;
  readonly targetScore?: number | null;
  readonly queueAware?: QueueAwareSizing | null;
  readonly scaleUp: RulesView;
  readonly scaleDown: RulesView;
}

interface RulesView {
  readonly selectPolicy?: SelectPolicy;
  readonly policies?: readonly { readonly type?: RatePolicyType; readonly value?: number }[];
}

/** Every rule between fields that the input breaks, each naming the field to change. */
export function crossFieldProblems(view: PolicyView): FieldProblem[] {
  return [...boundsProblems(view), ...metricProblems(view), ...combineProblems(view), ...rulesProblems(view, 'scaleUp'), ...rulesProblems(view, 'scaleDown'), ...scaleToZeroProblems(view)];
}

function boundsProblems({ minReplicas, maxReplicas }: PolicyView): FieldProblem[] {
  if (minReplicas === undefined || maxReplicas === undefined || minReplicas <= maxReplicas) return [];
  return [{ field: 'minReplicas', problem: `must not exceed maxReplicas (${maxReplicas}), got ${minReplicas}` }];
}

function metricProblems({ metrics, combineMode, queueAware }: PolicyView): FieldProblem[] {
  if (metrics === undefined) return [];
  const problems: FieldProblem[] = [];
  if (metrics.length === 0 && combineMode === 'weighted') problems.push({ field: 'metrics', problem: 'weighted mode needs at least one metric' });
  else if (metrics.length === 0 && queueAware === null) problems.push({ field: 'metrics', problem: 'name at least one metric, or enable queueAware' });
  const firstAt = new Map<ScalingMetric, number>();
  metrics.forEach((m, i) => {
    const at = `metrics[${i}]`;
    if (m.metric === undefined) return;
    const info = METRIC_INFO[m.metric];
    const seen = firstAt.get(m.metric);
    if (seen !== undefined) problems.push({ field: `${at}.metric`, problem: `${m.metric} is already listed at metrics[${seen}]` });
    else firstAt.set(m.metric, i);
    if (info.fraction && m.target !== undefined && m.target > 1) problems.push({ field: `${at}.target`, problem: `${m.metric} is a fraction: the target must be at most 1, got ${m.target}` });
    if (info.fraction && typeof m.capacity === 'number' && m.capacity > 1) {
      problems.push({ field: `${at}.capacity`, problem: `${m.metric} is a fraction: the capacity must be at most 1, got ${m.capacity}` });
    }
    if (combineMode !== 'weighted') return;
    if (m.weight !== undefined && m.weight <= 0) problems.push({ field: `${at}.weight`, problem: 'must be above 0 in weighted mode' });
    if (m.capacity === null && info.defaultCapacity === null) {
      problems.push({ field: `${at}.capacity`, problem: `is required in weighted mode: ${m.metric} has no natural full value (${info.unit})` });
    }
  });
  return problems;
}

function combineProblems({ combineMode, scaleUpThreshold: up, scaleDownThreshold: down, targetScore }: PolicyView): FieldProblem[] {
  if (combineMode !== 'weighted' || up === undefined || down === undefined) return [];
  if (down >= up) return [{ field: 'combine.scaleDownThreshold', problem: `must be below scaleUpThreshold (${up}), got ${down}` }];
  if (typeof targetScore === 'number' && (targetScore <= down || targetScore >= up)) {
    return [{ field: 'combine.targetScore', problem: `must lie strictly between scaleDownThreshold (${down}) and scaleUpThreshold (${up}), got ${targetScore}` }];
  }
  return [];
}

function rulesProblems(view: PolicyView, direction: 'scaleUp' | 'scaleDown'): FieldProblem[] {
  const { selectPolicy, policies } = view[direction];
  const at = `behavior.${direction}`;
  if (policies === undefined) return [];
  const problems: FieldProblem[] = [];
  if (policies.length === 0 && selectPolicy !== undefined && selectPolicy !== 'Disabled') {
    problems.push({ field: `${at}.policies`, problem: 'needs at least one policy unless selectPolicy is Disabled' });
  }
  if (direction === 'scaleDown') {
    policies.forEach((p, i) => {
      if (p.type === 'Percent' && p.value !== undefined && p.value > 100) {
        problems.push({ field: `${at}.policies[${i}].value`, problem: `a Percent scale-down policy removes at most 100 %, got ${p.value}` });
      }
    });
  }
  return problems;
}

/**
 * Scaling to zero: a pool with no worker reports no utilization, CPU, memory or latency, so only a
 * metric that sees demand without workers can bring it back; and a Percent policy of zero replicas
 * allows zero more, so scaling up from zero needs a Pods policy that the selectPolicy can pick.
 */
function scaleToZeroProblems({ minReplicas, metrics, queueAware, scaleUp }: PolicyView): FieldProblem[] {
  if (minReplicas !== 0) return [];
  const problems: FieldProblem[] = [];
  const wakers = metrics?.filter((m) => m.metric !== undefined && METRIC_INFO[m.metric].seesDemandAtZero);
  const queueWakes = queueAware !== undefined && queueAware !== null && queueAware.defaultServiceTimeMs !== null;
  if (metrics !== undefined && wakers?.length === 0 && !queueWakes) {
    problems.push({
      field: 'minReplicas',
      problem: 'scaling to zero (0) needs a metric that sees demand with no worker (backlog_per_worker or arrival_rate), or queueAware with a defaultServiceTimeMs',
    });
  }
  const { selectPolicy, policies } = scaleUp;
  if (policies === undefined || policies.length === 0 || selectPolicy === undefined || selectPolicy === 'Disabled') return problems;
  const types = policies.map((p) => p.type);
  if (types.includes(undefined)) return problems;
  const canLeaveZero = selectPolicy === 'Max' ? types.includes('Pods') : types.every((t) => t === 'Pods');
  if (!canLeaveZero) {
    problems.push({
      field: 'behavior.scaleUp.policies',
      problem: `with minReplicas 0, scaling up from zero needs ${selectPolicy === 'Max' ? 'a Pods policy' : 'only Pods policies under selectPolicy Min'} (a Percent of zero replicas is zero)`,
    });
  }
  return problems;
}
