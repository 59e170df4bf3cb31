import type { CustomerCard, Health, SystemOverview, TaskView, Timeline } from './read-models';

const DAY_MS = 86_400_000;
/** Success rates are judged only once there are this many finished executions to judge by. */
const MIN_FINISHED_FOR_RATE = 4;

export interface CustomerFacts {
  readonly customerId: string;
  readonly counts: CustomerCard['counts'];
  readonly lastActivityAt: number | null;
  /** Nearest deadline among its queued or running executions. */
  readonly nearestDeadlineAt: number | null;
  /** SLA violations of executions still queued or running. */
  readonly activeSlaViolations: number;
  /** Tasks of its most recently active execution (queued or running), if any. */
  readonly activeTasks: readonly Pick<TaskView, 'agentType' | 'status'>[] | null;
  readonly circuit: CustomerCard['circuit'];
}

export function successRate(completed: number, failed: number): number | null {
  return completed + failed === 0 ? null : Math.round((completed / (completed + failed)) * 1000) / 1000;
}

/** The running task's agent type (else the first unfinished one), and the share of finished tasks. */
export function phaseOf(tasks: readonly Pick<TaskView, 'agentType' | 'status'>[] | null): CustomerCard['phase'] {
  if (!tasks || tasks.length === 0) return null;
  const finished = tasks.filter((t) => t.status === 'completed' || t.status === 'skipped').length;
  const current = tasks.find((t) => t.status === 'running' || t.status === 'dispatched' || t.status === 'retrying') ?? tasks.find((t) => t.status === 'pending');
  return { name: current?.agentType ?? 'finishing', progressPct: Math.round((finished / tasks.length) * 100) };
}

/** delayed past the deadline; at risk with less than a day left or an SLA already broken; else on time. */
export function timelineOf(nearestDeadlineAt: number | null, activeSlaViolations: number, now: number): CustomerCard['timeline'] {
  const daysRemaining = nearestDeadlineAt === null ? null : Math.round(((nearestDeadlineAt - now) / DAY_MS) * 10) / 10;
  let status: Timeline = 'on_time';
  if (daysRemaining !== null && daysRemaining < 0) status = 'delayed';
  else if ((daysRemaining !== null && daysRemaining < 1) || activeSlaViolations > 0) status = 'at_risk';
  return { status, daysRemaining };
}

/**
 * red: the circuit is not closed, or fewer than half of its executions succeed; yellow: fewer than
 * 80 % succeed, an SLA is broken, or a deadline is missed; green otherwise. The reason names the rule.
 */
export function healthOf(f: CustomerFacts, timeline: CustomerCard['timeline']): CustomerCard['health'] {
  const finished = f.counts.completed + f.counts.failed;
  const rate = successRate(f.counts.completed, f.counts.failed);
  const pct = rate === null ? '' : `${Math.round(rate * 100)} %`;
  if (f.circuit !== 'closed') return { status: 'red', reason: `circuit breaker ${f.circuit === 'open' ? 'open' : 'half-open'} after repeated failures` };
  if (finished >= MIN_FINISHED_FOR_RATE && rate !== null && rate < 0.5) return { status: 'red', reason: `only ${pct} of executions succeed` };
  if (finished >= MIN_FINISHED_FOR_RATE && rate !== null && rate < 0.8) return { status: 'yellow', reason: `${pct} of executions succeed` };
  if (f.activeSlaViolations > 0) return { status: 'yellow', reason: `${f.activeSlaViolations} waiting execution(s) past the queue-time SLA` };
  if (timeline.status === 'delayed') return { status: 'yellow', reason: 'a deadline has passed' };
  return { status: 'green', reason: 'executions succeed and run on time' };
}

export function customerCard(f: CustomerFacts, now: number): CustomerCard {
  const timeline = timelineOf(f.nearestDeadlineAt, f.activeSlaViolations, now);
  return {
    customerId: f.customerId,
    name: f.customerId,
    phase: phaseOf(f.activeTasks),
    health: healthOf(f, timeline),
    timeline,
    successRate: successRate(f.counts.completed, f.counts.failed),
    lastActivityAt: f.lastActivityAt === null ? null : new Date(f.lastActivityAt).toISOString(),
    counts: f.counts,
    circuit: f.circuit,
  };
}

export interface OverviewFacts {
  readonly active: number;
  readonly queued: number;
  readonly capacity: number;
  readonly windowMinutes: number;
  readonly completedInWindow: number;
  readonly failedInWindow: number;
  readonly criticalAlerts24h: number;
  readonly criticalAlerts15m: number;
  readonly customers: number;
}

/** red: a critical alert in the last 15 min or under half succeeding; yellow: the queue is longer than capacity or under 80 % succeed. */
export function systemOverview(f: OverviewFacts, now: number): SystemOverview {
  const rate = successRate(f.completedInWindow, f.failedInWindow);
  let health: { status: Health; reason: string } = { status: 'green', reason: 'executions succeed and the queue is short' };
  if (f.criticalAlerts15m > 0) health = { status: 'red', reason: `${f.criticalAlerts15m} critical alert(s) in the last 15 min` };
  else if (rate !== null && f.completedInWindow + f.failedInWindow >= MIN_FINISHED_FOR_RATE && rate < 0.5) health = { status: 'red', reason: `only ${Math.round(rate * 100)} % succeed` };
  else if (f.queued > f.capacity) health = { status: 'yellow', reason: `${f.queued} queued for ${f.capacity} slots` };
  else if (rate !== null && f.completedInWindow + f.failedInWindow >= MIN_FINISHED_FOR_RATE && rate < 0.8) health = { status: 'yellow', reason: `${Math.round(rate * 100)} % succeed` };
  return {
    active: f.active,
    capacity: f.capacity,
    queued: f.queued,
    utilization: f.capacity > 0 ? Math.round((f.active / f.capacity) * 1000) / 1000 : null,
    health,
    successRate: { windowMinutes: f.windowMinutes, rate, completed: f.completedInWindow, failed: f.failedInWindow },
    criticalAlerts: f.criticalAlerts24h,
    customers: f.customers,
    updatedAt: new Date(now).toISOString(),
  };
}
