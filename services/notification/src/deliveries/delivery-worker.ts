import { assertNever } from '@flotilla/domain';
import { contextFromTraceparent, inSpan, SpanKind } from '@flotilla/observability';
import { PollingLoop, type BackgroundWork, type Platform } from '@flotilla/service-kit';
import { canSend, onFailure, onSuccess, type EndpointHealth, type EndpointHealthSettings } from '../endpoints/domain/endpoint-health';
import { endpointUrlProblems, type UrlSettings } from '../endpoints/domain/address-policy';
import { signedHeaders } from '../signing/domain/webhook-signature';
import { isDeliverable, signingSecrets, type ActiveSubscription, type SubscriptionState } from '../subscriptions/domain/subscription';
import type { SubscriptionCommands } from '../subscriptions/subscription-commands';
import type { Deliveries } from './deliveries';
import { recordAttempt, type AttemptResult } from './domain/delivery';
import type { RetrySchedule } from './domain/retry-schedule';
import type { LeasedDelivery, WebhookTransport } from './ports';

export interface DeliveryWorkerSettings {
  readonly schedule: RetrySchedule;
  readonly jitterRatio: number;
  readonly timeoutMs: number;
  readonly concurrency: number;
  readonly concurrencyPerSubscription: number;
  readonly pollMs: number;
  readonly health: EndpointHealthSettings;
  readonly urls: UrlSettings;
}

/**
 * Sends due deliveries. Each round leases what it has room for (a lease outlives the request's
 * timeout, so only a worker that died lets its deliveries go to another), sends them concurrently,
 * and records each outcome with the endpoint's health in one commit. A subscription never holds more
 * than `concurrencyPerSubscription` of the slots, and its circuit, once open, keeps its deliveries
 * waiting without a request: a dead endpoint delays nobody else's.
 *
 * Several instances may run: leases are taken with SKIP LOCKED, and an outcome is recorded only
 * under the lease that sent it (a worker that comes back after its lease ran out records nothing; the
 * delivery was, or will be, sent again by the one that took it over, with the same webhook-id).
 */
export class DeliveryWorker implements BackgroundWork {
  private readonly loop: PollingLoop;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly perSubscription = new Map<string, number>();
  private readonly leaseMs: number;

  constructor(
    private readonly platform: Platform,
    private readonly deliveries: Deliveries,
    private readonly subscriptions: SubscriptionCommands,
    private readonly transport: WebhookTransport,
    private readonly settings: DeliveryWorkerSettings,
    private readonly random: () => number = Math.random,
  ) {
    // The request's own timeout, plus room to record its outcome.
    this.leaseMs = settings.timeoutMs + 10_000;
    this.loop = new PollingLoop('delivering webhooks', () => this.round(), platform.logger, settings.pollMs);
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    // What is in flight finishes and is recorded; its leases would otherwise hold it for leaseMs after a restart.
    await Promise.allSettled([...this.inFlight]);
    await this.transport.close();
  }

  /** Something became due (a new delivery, a replay, a finished request freed a slot): look now. */
  nudge(): void {
    this.loop.nudge();
  }

  /** One lease of due deliveries, sent without waiting; true when it filled every free slot (more may be due). */
  async round(): Promise<boolean> {
    const free = this.settings.concurrency - this.inFlight.size;
    if (free <= 0) return false;
    const saturated = [...this.perSubscription].filter(([, n]) => n >= this.settings.concurrencyPerSubscription).map(([id]) => id);
    const leased = await this.deliveries.rows.leaseDue(Date.now(), free, this.leaseMs, saturated);
    if (leased.length === 0) return false;
    const rows = await this.subscriptions.rows.get([...new Set(leased.map((d) => d.subscriptionId))]);
    for (const delivery of leased) {
      const count = this.perSubscription.get(delivery.subscriptionId) ?? 0;
      if (count >= this.settings.concurrencyPerSubscription) {
        // Leased in the same batch as others of its subscription past the limit: back to the queue as it was.
        await this.deliveries.rows.postpone(delivery.deliveryId, delivery.leaseId, delivery.nextAttemptAt);
        continue;
      }
      this.perSubscription.set(delivery.subscriptionId, count + 1);
      const attributes = { 'flotilla.delivery_id': delivery.deliveryId, 'flotilla.subscription_id': delivery.subscriptionId, 'flotilla.event_type': delivery.eventType, 'flotilla.attempt': delivery.attempts + 1 };
      const work = inSpan('webhook.deliver', { kind: SpanKind.CLIENT, attributes, parent: contextFromTraceparent(delivery.traceparent, null) }, () =>
        this.deliver(delivery, rows.get(delivery.subscriptionId)?.state ?? { status: 'None' }),
      )
        .catch((error: unknown) => this.platform.logger.error({ err: error, deliveryId: delivery.deliveryId }, 'a delivery could not be recorded; its lease will run out and it is sent again'))
        .finally(() => {
          this.inFlight.delete(work);
          const left = (this.perSubscription.get(delivery.subscriptionId) ?? 1) - 1;
          if (left <= 0) this.perSubscription.delete(delivery.subscriptionId);
          else this.perSubscription.set(delivery.subscriptionId, left);
          this.nudge();
        });
      this.inFlight.add(work);
    }
    return leased.length === free;
  }

  private async deliver(delivery: LeasedDelivery, subscription: SubscriptionState): Promise<void> {
    const now = Date.now();
    if (!isDeliverable(subscription)) {
      const reason = undeliverableBecause(subscription);
      await this.platform.store.withTransaction((tx) => this.deliveries.abandonPendingOf(tx, delivery.subscriptionId, reason, now));
      this.platform.relay.notifyCommitted();
      return;
    }
    const admitted = await this.admit(delivery, subscription, now);
    if (!admitted) return;
    const urlProblems = endpointUrlProblems(subscription.url, this.settings.urls);
    const result: AttemptResult =
      urlProblems.length > 0
        ? { kind: 'no_answer', error: `address refused: ${urlProblems.map((p) => p.problem).join('; ')}`, latencyMs: 0 }
        : await this.transport.send({ url: subscription.url, headers: signedHeaders(signingSecrets(subscription, now), delivery.deliveryId, Math.floor(Date.now() / 1000), delivery.body), body: delivery.body });
    await this.record(delivery, result, subscription.health);
  }

  /**
   * Whether the endpoint's circuit lets this attempt out. An open circuit postpones the delivery to
   * when a probe may go, without using an attempt; admitting the probe moves the circuit to half-open,
   * decided on the locked row so that two workers cannot both send it.
   */
  private async admit(delivery: LeasedDelivery, subscription: ActiveSubscription, now: number): Promise<boolean> {
    const seen = canSend(subscription.health, now, this.settings.health);
    if (seen.kind === 'send' && !seen.probe) return true;
    const decision = await this.platform.store.withTransaction(async (tx) => {
      const row = await this.subscriptions.rows.lock(tx, delivery.subscriptionId);
      if (row.state.status !== 'Active') return { kind: 'disabled' as const };
      const locked = canSend(row.state.health, now, this.settings.health);
      if (locked.kind === 'send' && locked.probe) await this.subscriptions.applyWithin(tx, delivery.subscriptionId, { type: 'RecordHealth', health: locked.state, reason: 'a probe is sent', now });
      return locked;
    });
    this.platform.relay.notifyCommitted();
    if (decision.kind === 'send') return true;
    // Disabled meanwhile: the next lease finds it undeliverable and dead-letters it with the rest.
    await this.deliveries.rows.postpone(delivery.deliveryId, delivery.leaseId, decision.kind === 'wait' ? decision.untilMs : now);
    return false;
  }

  /**
   * The attempt, the delivery's next state and the endpoint's health, in one commit, under the lease
   * that sent it. A success at an endpoint that was healthy when the delivery was leased leaves the
   * subscription's row alone: locking it for every success would queue all of one subscription's
   * deliveries behind one row lock (bench:notification measured it as most of the database time).
   * The cost: a failure another attempt recorded since the lease is not reset by this success, only
   * by the next success that finds it.
   */
  private async record(leased: LeasedDelivery, result: AttemptResult, healthWhenLeased: EndpointHealth): Promise<void> {
    const now = Date.now();
    await this.platform.store.withTransaction(async (tx) => {
      const delivery = await this.deliveries.rows.lockLeased(tx, leased.deliveryId, leased.leaseId);
      if (!delivery || delivery.status !== 'pending') return; // the lease ran out and another worker has it
      const attempt = recordAttempt(delivery, result, { schedule: this.settings.schedule, jitterRatio: this.settings.jitterRatio, random01: this.random(), now });
      await this.deliveries.rows.update(tx, delivery.deliveryId, attempt.delivery);
      await this.deliveries.enqueue(tx, attempt.events.map((event) => ({ aggregateId: delivery.deliveryId, version: attempt.delivery.attempts, event })), now);

      if (attempt.outcome === 'succeeded' && healthWhenLeased.status === 'closed' && healthWhenLeased.consecutiveFailures === 0) return;
      const row = await this.subscriptions.rows.lock(tx, delivery.subscriptionId);
      if (row.state.status !== 'Active') return;
      const health = this.healthAfter(row.state.health, attempt.outcome, now);
      if (!health) return;
      const { state } = await this.subscriptions.applyWithin(tx, delivery.subscriptionId, { type: 'RecordHealth', health: health.state, reason: health.reason, now });
      if (state.status === 'Active' && state.health.status === 'disabled' && row.state.health.status !== 'disabled') {
        await this.deliveries.abandonPendingOf(tx, delivery.subscriptionId, `the subscription was disabled: ${health.reason}`, now);
      }
    });
    this.platform.relay.notifyCommitted();
  }

  private healthAfter(health: EndpointHealth, outcome: 'succeeded' | 'failed' | 'gone', now: number): { readonly state: EndpointHealth; readonly reason: string } | null {
    switch (outcome) {
      case 'succeeded': {
        const after = onSuccess(health, now);
        return after.kind === 'disabled' ? null : { state: after.state, reason: after.kind === 'recovered' ? `the endpoint answers again after ${Math.round(after.failedForMs / 1000)} s` : 'the endpoint answers' };
      }
      case 'failed': {
        const after = onFailure(health, now, this.settings.health);
        if (after.kind === 'disabled') return null;
        if (after.kind === 'disable') return { state: after.state, reason: `no success for ${Math.round(after.failedForMs / 60_000)} min` };
        return { state: after.state, reason: after.kind === 'opened' ? `${after.state.status === 'open' ? after.state.consecutiveFailures : ''} consecutive failures: the circuit opened` : 'a failed attempt' };
      }
      case 'gone':
        return health.status === 'disabled' ? null : { state: { status: 'disabled', failingSince: health.failingSince ?? now, disabledAt: now }, reason: 'the endpoint answered 410 Gone' };
      default:
        return assertNever(outcome, 'attempt outcome');
    }
  }
}

function undeliverableBecause(subscription: SubscriptionState): string {
  if (subscription.status !== 'Active') return 'the subscription was deleted';
  return subscription.enabled ? 'the subscription is disabled: its endpoint kept failing' : 'the subscription is turned off';
}
