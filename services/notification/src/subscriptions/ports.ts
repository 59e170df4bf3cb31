import type { Transaction } from '@flotilla/event-store';
import type { SubscriptionState } from './domain/subscription';

export interface VersionedSubscription {
  readonly state: SubscriptionState;
  readonly version: number;
}

/** Each subscription's row: its state (secrets included) and its stream's version. */
export interface SubscriptionRows {
  /** The row locked for the transaction; a subscription never created reads as `None` at version 0. */
  lock(tx: Transaction, subscriptionId: string): Promise<VersionedSubscription>;
  save(tx: Transaction, subscriptionId: string, customerId: string | null, row: VersionedSubscription): Promise<void>;
  /** Unlocked reads, for the fan-out and the worker. */
  get(subscriptionIds: readonly string[]): Promise<Map<string, VersionedSubscription>>;
  /** Subscriptions that may receive `customerId`'s events (its own, and ops' ones for every customer), deliverable or not. */
  candidatesFor(tx: Transaction, customerId: string | null): Promise<VersionedSubscription[]>;
  /** The customer's (or, for null, every) subscription, for the route that lists them. */
  list(customerId: string | null): Promise<VersionedSubscription[]>;
}
