import type { ConsumedEvent } from '@flotilla/messaging';
import type { Platform } from '@flotilla/service-kit';
import type { PoolClient } from 'pg';

/** The read-model change and the inbox record commit together: a redelivered event changes nothing. */
export async function project(platform: Platform, event: ConsumedEvent, change: (client: PoolClient) => Promise<void>): Promise<void> {
  const store = platform.store;
  await store.withTransaction(async (client) => {
    if (!(await store.recordInbox(client, 'projection.executions', event.envelope.eventId))) return;
    await change(client);
  });
}
