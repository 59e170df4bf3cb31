import type { Transaction } from '@flotilla/event-store';
import type { AttemptResult, Delivery } from './domain/delivery';

/** A delivery as the worker leases it: the row, the bytes to send, and the lease it holds. */
export interface LeasedDelivery extends Delivery {
  readonly body: string;
  readonly leaseId: string;
  /** The delivered event's trace: the attempts join it. */
  readonly traceparent: string | null;
}

export interface NewDelivery {
  readonly deliveryId: string;
  readonly subscriptionId: string;
  readonly customerId: string | null;
  readonly eventId: string;
  readonly eventType: string;
  readonly body: string;
  readonly traceparent: string | null;
  /** When its first attempt is due. */
  readonly dueAt: number;
  readonly now: number;
}

export interface DeliveryChange {
  readonly status: Delivery['status'];
  readonly attempts: number;
  readonly attemptsInRun: number;
  readonly nextAttemptAt: number;
  readonly lastStatus?: number | null;
  readonly lastError?: string | null;
  readonly finishedAt: number | null;
}

export interface DeliveryRows {
  /** Inserts the deliveries that do not exist yet (one per event and subscription); the ones inserted. */
  schedule(tx: Transaction, deliveries: readonly NewDelivery[]): Promise<NewDelivery[]>;
  /**
   * Leases up to `limit` due deliveries for `leaseMs`, skipping rows another worker holds and the
   * subscriptions in `skipSubscriptions` (already at their limit of requests in flight).
   */
  leaseDue(now: number, limit: number, leaseMs: number, skipSubscriptions: readonly string[]): Promise<LeasedDelivery[]>;
  /** The delivery locked for the transaction, if the lease is still the caller's; null when it ran out and another worker took it. */
  lockLeased(tx: Transaction, deliveryId: string, leaseId: string): Promise<Delivery | null>;
  lock(tx: Transaction, deliveryId: string): Promise<Delivery | null>;
  /** Saves the change and lets the lease go. */
  update(tx: Transaction, deliveryId: string, change: DeliveryChange): Promise<void>;
  /** Moves a leased delivery to `at` without an attempt (its endpoint's circuit is open) and lets the lease go. */
  postpone(deliveryId: string, leaseId: string, at: number): Promise<void>;
  /** The subscription's deliveries still pending, locked: to be abandoned when it is deleted or disabled. */
  lockPendingOf(tx: Transaction, subscriptionId: string): Promise<Delivery[]>;
  /** The earliest time a pending delivery is due, or null. */
  nextDueAt(): Promise<number | null>;
  /** Deletes what finished before `before` (deliveries, remembered execution kinds, inbound ids), at most `limit` rows of each; how many went. */
  prune(before: number, limit: number): Promise<number>;
}

/** Each execution's kind, heard from ExecutionAccepted, for filters on execution kinds. */
export interface ExecutionKinds {
  remember(tx: Transaction, executionId: string, kind: string, at: number): Promise<void>;
  kindOf(tx: Transaction, executionId: string): Promise<string | null>;
}

export interface WebhookRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Sends one webhook; every way it can go wrong is an AttemptResult, never a throw. */
export interface WebhookTransport {
  send(webhook: WebhookRequest): Promise<AttemptResult>;
  close(): Promise<void>;
}
