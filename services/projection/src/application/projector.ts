import type { ConsumedEvent } from '@flotilla/messaging';
import type { Platform } from '@flotilla/service-kit';
import type { PoolClient } from 'pg';
import type { ReadModelChange } from '../domain/read-models';
import type { ChangeFeed } from './change-feed';

/**
 * Applies one event to the read models: the change and the inbox record commit together, so a
 * redelivered event changes nothing; after the commit, what changed goes to the change feed.
 */
export async function project(platform: Platform, feed: ChangeFeed, event: ConsumedEvent, change: (client: PoolClient) => Promise<void>): Promise<void> {
  const store = platform.store;
  const changes = await store.withTransaction(async (client) => {
    if (!(await store.recordInbox(client, 'projection.executions', event.envelope.eventId))) return [];
    await change(client);
    return changesOf(client, platform.store.schema, event.envelope.payload as Record<string, unknown>, event.envelope.occurredAt);
  });
  await feed.publish(changes);
}

/** Every event touches the overview; most touch one execution and its customer's card; alerts an alert. */
async function changesOf(client: PoolClient, schema: string, payload: Record<string, unknown>, occurredAt: number): Promise<ReadModelChange[]> {
  const at = new Date(occurredAt).toISOString();
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
  return changes;
}
