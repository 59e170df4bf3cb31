import { TOPICS, type TopicSpec } from '@flotilla/contracts';

/**
 * What the notification service hears and can deliver: executions, alerts, budgets and scaling.
 * Task-level events stay out on purpose: one per task attempt would drown an endpoint, and an
 * execution's own events say how it went.
 */
export const DELIVERED_TOPICS: readonly TopicSpec[] = [TOPICS.executions, TOPICS.alerts, TOPICS.budgets, TOPICS.scaling];

export const DELIVERABLE_EVENT_TYPES: readonly string[] = DELIVERED_TOPICS.flatMap((t) => t.carries).sort();
