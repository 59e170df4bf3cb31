import type { NewEvent, Transaction } from '@flotilla/event-store';
import { currentTraceContext } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import { v7 as uuidv7 } from 'uuid';
import { isPublishedSubscriptionEvent, subscriptionDecider, subscriptionStreamId, type SubscriptionCommand, type SubscriptionEvent, type SubscriptionState } from './domain/subscription';
import type { SubscriptionRows } from './ports';

export interface AppliedSubscription {
  readonly state: SubscriptionState;
  readonly events: readonly SubscriptionEvent[];
}

/**
 * The one way to change a subscription: its row locked, the command decided, the published events
 * appended to its stream and queued for flotilla.notifications (and flotilla.alerts), the row saved,
 * in one commit.
 */
export class SubscriptionCommands {
  constructor(
    private readonly platform: Platform,
    readonly rows: SubscriptionRows,
  ) {}

  async apply(subscriptionId: string, command: SubscriptionCommand): Promise<AppliedSubscription> {
    const result = await this.platform.store.withTransaction((tx) => this.applyWithin(tx, subscriptionId, command));
    if (result.events.length > 0) this.platform.relay.notifyCommitted();
    return result;
  }

  /** The command, then `andThen` in the same commit (a deletion dead-letters the subscription's waiting deliveries). */
  async applyAndThen(subscriptionId: string, command: SubscriptionCommand, andThen: (tx: Transaction) => Promise<unknown>): Promise<AppliedSubscription> {
    const result = await this.platform.store.withTransaction(async (tx) => {
      const applied = await this.applyWithin(tx, subscriptionId, command);
      await andThen(tx);
      return applied;
    });
    this.platform.relay.notifyCommitted();
    return result;
  }

  /** In the caller's transaction (the delivery worker records an attempt and the endpoint's health in one commit). */
  async applyWithin(tx: Transaction, subscriptionId: string, command: SubscriptionCommand): Promise<AppliedSubscription> {
    const row = await this.rows.lock(tx, subscriptionId);
    const events = subscriptionDecider.decide(command, row.state);
    if (events.length === 0) return { state: row.state, events };
    const state = events.reduce(subscriptionDecider.evolve, row.state);
    const published = events.filter(isPublishedSubscriptionEvent);
    const { traceparent } = currentTraceContext();
    const news = published.map((event): NewEvent => ({ eventId: uuidv7(), eventType: event.type, data: event.data, metadata: { occurredAt: command.now, correlationId: subscriptionId, causationId: null, traceparent, tracestate: null } }));
    if (news.length > 0) await this.platform.store.record(tx, [{ streamId: subscriptionStreamId(subscriptionId), expectedVersion: row.version, events: news }], this.platform.route);
    const customerId = state.status === 'None' ? null : state.customerId;
    await this.rows.save(tx, subscriptionId, customerId, { state, version: row.version + news.length });
    return { state, events };
  }
}
