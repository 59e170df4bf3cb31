import { budgetScopeOf } from '@flotilla/contracts';
import { inTransaction } from '@flotilla/event-store';
import type { ConsumedEvent } from '@flotilla/messaging';
import type { Pool, PoolClient } from 'pg';
import type { ReadModelChange } from '../domain/read-models';
import { ExecutionsRepository } from './executions.repository';
import { advanceCheckpoint, recordApplied } from './generations';
import { ReadSideRepository } from './read-side.repository';
import { CostsRepository } from '../../costs/infrastructure/costs.repository';
import type { ChangeFeed } from '../../live-stream/change-feed';
import { NotificationsRepository } from '../../notifications/infrastructure/notifications.repository';
import { ScalingRepository } from '../../scaling/infrastructure/scaling.repository';
import { APPLIED_WITHOUT_INBOX, readModelChangeOf, type GenerationTables, type ReadModelProjector } from '../read-model-events';

/**
 * Applies events to one generation of the read models (the live tables, or a rebuild's beside
 * them). Per event, one transaction: advance the topic-partition checkpoint (an event at or below it
 * was applied already: a redelivery after a crash), record the event id (the same event published
 * twice), change the read models. The checkpoint is touched first, always: the generation switch
 * locks it first too, so the two never wait on each other in opposite orders.
 *
 * The checkpoint is only sound because the projection consumes each partition in order
 * (ordering "partition"): with messages of several keys in flight, a later offset could commit
 * before an earlier one and the earlier one would then be skipped.
 */
export class Projector implements ReadModelProjector {
  readonly tables: GenerationTables;

  constructor(
    private readonly pool: Pool,
    schema: string,
    /** The live generation announces committed changes; a rebuild's tables serve nobody yet. */
    private readonly feed: ChangeFeed | null,
  ) {
    this.tables = {
      schema,
      executions: new ExecutionsRepository(schema),
      readSide: new ReadSideRepository(schema),
      costs: new CostsRepository(schema),
      scaling: new ScalingRepository(schema),
      notifications: new NotificationsRepository(schema),
    };
  }

  /**
   * @param advanceUnhandled a rebuild advances its checkpoints over event types it does not use as
   *   well, so that its checkpoints reach the topics' ends and compare with the live ones.
   */
  async apply(event: ConsumedEvent, { advanceUnhandled = false } = {}): Promise<boolean> {
    const change = readModelChangeOf(event.envelope);
    if (!change && !advanceUnhandled) return false;
    const applied = await inTransaction(this.pool, async (client) => {
      if (!(await advanceCheckpoint(client, this.tables.schema, event.topic, event.partition, event.offset))) return null;
      if (!change) return null;
      if (!APPLIED_WITHOUT_INBOX.has(event.envelope.eventType) && !(await recordApplied(client, this.tables.schema, event.envelope.eventId))) return null;
      await change(client, this.tables);
      // A rebuild's generation has nobody to tell: it skips working out (and querying for) what changed.
      return this.feed ? changesOf(client, this.tables.schema, event.envelope.eventType, event.envelope.payload as Record<string, unknown>, event.envelope.occurredAt) : [];
    });
    if (applied) await this.feed?.publish(applied);
    return applied !== null;
  }
}

/**
 * Every event touches the overview; most touch one execution and its customer's card; alerts an alert; costs, budgets and recommendations their own.
 * The scaler's and the pools' events touch only their pool's scaling read models (not the overview: metrics reports come every few seconds).
 * The notification service's touch only their subscription's: a `notification` change whose customer is the subscription's (its
 * row, just written), not the payload's, so that a delivery of an ops subscription is never announced to a customer.
 */
async function changesOf(client: PoolClient, schema: string, eventType: string, payload: Record<string, unknown>, occurredAt: number): Promise<ReadModelChange[]> {
  const at = new Date(occurredAt).toISOString();
  if (eventType.startsWith('flotilla.scaling.') || eventType.startsWith('flotilla.pool.')) {
    return typeof payload.agentType === 'string' ? [{ kind: 'scaling', id: payload.agentType, customerId: null, at }] : [];
  }
  if (eventType.startsWith('flotilla.notification.')) {
    if (typeof payload.subscriptionId !== 'string') return [];
    const { rows } = await client.query(`SELECT customer_id FROM ${schema}.notification_subscriptions WHERE subscription_id = $1`, [payload.subscriptionId]);
    return [{ kind: 'notification', id: payload.subscriptionId, customerId: rows[0]?.customer_id ?? null, at }];
  }
  const executionId = typeof payload.executionId === 'string' ? payload.executionId : null;
  let customerId = typeof payload.customerId === 'string' ? payload.customerId : null;
  if (!customerId && executionId) {
    // Task reports do not carry the customer; the stream still has to know whose change it is.
    const { rows } = await client.query(`SELECT customer_id FROM ${schema}.executions WHERE execution_id = $1`, [executionId]);
    customerId = rows[0]?.customer_id ?? null;
  }
  const changes: ReadModelChange[] = [{ kind: 'overview', id: 'system', customerId: null, at }];
  if (executionId) changes.push({ kind: 'execution', id: executionId, customerId, at });
  if (customerId) changes.push({ kind: 'customer', id: customerId, customerId, at });
  if (typeof payload.alertId === 'string') changes.push({ kind: 'alert', id: payload.alertId, customerId, at });
  if (typeof payload.sla === 'string' && executionId) changes.push({ kind: 'sla_violation', id: executionId, customerId, at });
  if (executionId && (typeof payload.costId === 'string' || typeof payload.finalizedAt === 'number')) changes.push({ kind: 'cost', id: executionId, customerId, at });
  if (typeof payload.budgetId === 'string') {
    const scope = budgetScopeOf(payload.budgetId);
    changes.push({ kind: 'budget', id: payload.budgetId, customerId: scope?.kind === 'customer' ? scope.customerId : null, at });
  }
  if (typeof payload.recommendationId === 'string') changes.push({ kind: 'recommendation', id: payload.recommendationId, customerId: null, at });
  return changes;
}
