import type { FieldProblem } from '@flotilla/domain';

/** Which events a subscription receives; an empty list places no condition (flotilla.notification.SubscriptionFilter). */
export interface SubscriptionFilter {
  readonly eventTypes: readonly string[];
  readonly severities: readonly string[];
  readonly executionKinds: readonly string[];
}

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;

/** What the filter needs to know of an event besides its type. */
export interface FilterableEvent {
  readonly type: string;
  /** AlertRaised's severity; null for other events. */
  readonly severity: string | null;
  /** The execution's kind for execution events, when known; null otherwise. */
  readonly executionKind: string | null;
}

const EXECUTION_EVENT_PREFIX = 'flotilla.execution.';

/**
 * Whether `event` passes `filter`. A type matches exactly or by its family (`flotilla.execution.*`).
 * Severities constrain alerts only and execution kinds execution events only: a filter of
 * `{ severities: ['critical'] }` still lets execution events through, which is what someone who
 * wants "every execution event and the critical alerts" writes. An execution event whose kind is not
 * known does not pass a kind condition: a subscription to reviews must not get other executions.
 */
export function matchesFilter(filter: SubscriptionFilter, event: FilterableEvent): boolean {
  if (filter.eventTypes.length > 0 && !filter.eventTypes.some((pattern) => typeMatches(pattern, event.type))) return false;
  if (event.type === 'flotilla.alert.AlertRaised' && filter.severities.length > 0 && !filter.severities.includes(event.severity ?? '')) return false;
  if (event.type.startsWith(EXECUTION_EVENT_PREFIX) && filter.executionKinds.length > 0 && (event.executionKind === null || !filter.executionKinds.includes(event.executionKind))) return false;
  return true;
}

function typeMatches(pattern: string, type: string): boolean {
  return pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

/** Every problem of a filter, against the event types that can be delivered at all. */
export function filterProblems(filter: SubscriptionFilter, deliverableTypes: readonly string[], field = 'filter'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  filter.eventTypes.forEach((pattern, i) => {
    const known = pattern.endsWith('.*') ? deliverableTypes.some((t) => typeMatches(pattern, t)) : deliverableTypes.includes(pattern);
    if (!known) problems.push({ field: `${field}.eventTypes[${i}]`, problem: `matches no event that can be delivered (${pattern}); see GET /v1/subscriptions/event-types` });
  });
  filter.severities.forEach((severity, i) => {
    if (!(ALERT_SEVERITIES as readonly string[]).includes(severity)) problems.push({ field: `${field}.severities[${i}]`, problem: `must be one of ${ALERT_SEVERITIES.join(', ')}` });
  });
  filter.executionKinds.forEach((kind, i) => {
    if (kind.trim() === '') problems.push({ field: `${field}.executionKinds[${i}]`, problem: 'must not be empty' });
  });
  return problems;
}
