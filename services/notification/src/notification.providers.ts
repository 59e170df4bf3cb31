import type { ServiceContext } from '@flotilla/service-kit';
import type { Provider } from '@nestjs/common';
import { Deliveries } from './deliveries/deliveries';
import { DeliveryJanitor } from './deliveries/delivery-janitor';
import { DeliveryWorker } from './deliveries/delivery-worker';
import { PostgresDeliveryRows, PostgresExecutionKinds } from './deliveries/infrastructure/delivery-rows';
import { WebhookSender } from './deliveries/infrastructure/webhook-sender';
import { InboundRequests } from './inbound/inbound-requests';
import type { NotificationConfig } from './notification.config';
import { DELIVERIES, DELIVERY_JANITOR, DELIVERY_WORKER, INBOUND_REQUESTS, NOTIFICATION_SETTINGS, SUBSCRIPTION_COMMANDS } from './notification.constants';
import { PostgresSubscriptionRows } from './subscriptions/infrastructure/subscription-rows';
import { SubscriptionCommands } from './subscriptions/subscription-commands';

/** The notification service's composition root: subscriptions, deliveries and the worker that sends them, webhooks in. */
export function notificationProviders({ platform, config }: ServiceContext<NotificationConfig>): Provider[] {
  const schema = platform.store.schema;
  const urls = { allowHttp: config.WEBHOOK_ALLOW_HTTP, allowPrivate: config.WEBHOOK_ALLOW_PRIVATE };
  const subscriptionRows = new PostgresSubscriptionRows(platform.pool, schema);
  const subscriptions = new SubscriptionCommands(platform, subscriptionRows);
  let worker: DeliveryWorker | null = null;
  const deliveries = new Deliveries(platform, new PostgresDeliveryRows(platform.pool, schema), subscriptionRows, new PostgresExecutionKinds(schema), config.WEBHOOK_RETRY_SCHEDULE[0], () => worker?.nudge());
  const sender = new WebhookSender({ timeoutMs: config.WEBHOOK_TIMEOUT_MS, maxResponseBytes: config.WEBHOOK_MAX_RESPONSE_BYTES, addresses: { allowPrivate: config.WEBHOOK_ALLOW_PRIVATE } });
  worker = new DeliveryWorker(platform, deliveries, subscriptions, sender, {
    schedule: config.WEBHOOK_RETRY_SCHEDULE,
    jitterRatio: config.WEBHOOK_RETRY_JITTER,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    concurrency: config.DELIVERY_CONCURRENCY,
    concurrencyPerSubscription: config.DELIVERY_CONCURRENCY_PER_SUBSCRIPTION,
    pollMs: config.DELIVERY_POLL_MS,
    health: { failureThreshold: config.ENDPOINT_FAILURE_THRESHOLD, openForMs: config.ENDPOINT_OPEN_MS, disableAfterFailingMs: config.ENDPOINT_DISABLE_AFTER_MS },
    urls,
  });
  const settings = {
    urls,
    rotationGraceMs: config.SECRET_ROTATION_GRACE_MS,
    inbound: { githubSecret: config.GITHUB_WEBHOOK_SECRET ?? null, githubRepositories: config.GITHUB_REPOSITORIES, senders: config.INBOUND_SENDERS, logger: platform.logger },
  };
  const delivering = worker;
  const janitor = new DeliveryJanitor(platform, deliveries, config.DELIVERY_RETENTION_MS, config.DELIVERY_PRUNE_INTERVAL_MS);
  // Factories, not useValue: Nest would otherwise walk these objects to compute the module's token.
  return [
    { provide: SUBSCRIPTION_COMMANDS, useFactory: () => subscriptions },
    { provide: DELIVERIES, useFactory: () => deliveries },
    { provide: DELIVERY_WORKER, useFactory: () => delivering },
    { provide: DELIVERY_JANITOR, useFactory: () => janitor },
    { provide: INBOUND_REQUESTS, useFactory: () => new InboundRequests(platform) },
    { provide: NOTIFICATION_SETTINGS, useFactory: () => settings },
  ];
}
