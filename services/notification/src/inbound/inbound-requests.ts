import type { ExecutionRequested, ReviewRequested } from '@flotilla/contracts';
import { currentTraceContext } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import { v7 as uuidv7 } from 'uuid';

export type InboundEvent =
  | { readonly type: 'flotilla.review.ReviewRequested'; readonly data: ReviewRequested }
  | { readonly type: 'flotilla.execution.ExecutionRequested'; readonly data: ExecutionRequested };

/**
 * An inbound webhook taken once: its delivery id recorded and the request it makes queued for its
 * topic, in one commit. The same delivery again (GitHub redelivers, a sender retries) finds its id
 * taken and requests nothing.
 */
export class InboundRequests {
  constructor(private readonly platform: Platform) {}

  async takeOnce(source: string, requestId: string, event: InboundEvent | null, outcome: string): Promise<'accepted' | 'duplicate'> {
    const schema = this.platform.store.schema;
    const taken = await this.platform.store.withTransaction(async (tx) => {
      const { rowCount } = await tx.query(`INSERT INTO ${schema}.inbound_requests (source, request_id, received_at, outcome) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [source, requestId, Date.now(), outcome]);
      if (rowCount === 0) return false;
      if (event) {
        const { traceparent } = currentTraceContext();
        const aggregateId = event.type === 'flotilla.review.ReviewRequested' ? event.data.repositoryId : event.data.executionId;
        await this.platform.store.queue(
          tx,
          [{ event: { eventId: uuidv7(), eventType: event.type, data: event.data, metadata: { occurredAt: Date.now(), correlationId: `${source}:${requestId}`, causationId: null, traceparent, tracestate: null } }, aggregateId, aggregateVersion: 0 }],
          this.platform.route,
        );
      }
      return true;
    });
    if (taken) this.platform.relay.notifyCommitted();
    return taken ? 'accepted' : 'duplicate';
  }
}
