import { isAgentType, taskDispatchTopic, TOPICS } from '@flotilla/contracts';
import type { Destination } from '@flotilla/event-store';
import type { Platform } from '@flotilla/service-kit';
import type { ExecutionEvent } from '../domain/execution/execution';

/**
 * Lifecycle events (queueing, admission and SLA violations included) go to the executions topic; alerts to the alerts topic; dispatches to their agent type's topic; cancellations
 * to the task-control topic every pool instance reads. All keyed by execution id.
 */
export function routeExecutionEvent(platform: Platform) {
  return (event: ExecutionEvent): Destination[] => {
    // Alerts go to the one alerts topic every consumer of alerts reads, keyed by customer.
    if (event.type === 'flotilla.alert.AlertRaised') return [{ topic: platform.topic(TOPICS.alerts.name), key: event.data.customerId ?? 'platform' }];
    const key = event.data.executionId;
    if (event.type === 'flotilla.task.TaskDispatched') {
      const agentType = event.data.agentType;
      if (!isAgentType(agentType)) throw new TypeError(`dispatch for unknown agent type ${agentType}`);
      return [{ topic: platform.topic(taskDispatchTopic(agentType).name), key }];
    }
    if (event.type === 'flotilla.task.TaskCancellationRequested') return [{ topic: platform.topic(TOPICS.taskControl.name), key }];
    return [{ topic: platform.topic(TOPICS.executions.name), key }];
  };
}
