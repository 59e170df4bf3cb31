import { telemetry } from './instrumentation';
import { defineService } from '@flotilla/service-kit';
import * as path from 'node:path';
import { DeliveriesController } from './deliveries/deliveries.controller';
import { FanOutHandlers } from './deliveries/fan-out.handlers';
import { InboundController } from './inbound/inbound.controller';
import { notificationConfig } from './notification.config';
import { DELIVERY_JANITOR, DELIVERY_WORKER } from './notification.constants';
import { notificationProviders } from './notification.providers';
import { DELIVERED_TOPICS } from './notification.topics';
import { SubscriptionsController } from './subscriptions/subscriptions.controller';

void defineService(telemetry, {
  name: 'notification',
  httpPort: 3005,
  config: notificationConfig,
  migrationsDir: path.resolve(__dirname, '../migrations'),
  // One durable group: an event heard while the service was down is delivered when it is back.
  consumers: [{ name: 'fan-out', topics: DELIVERED_TOPICS }],
  controllers: [FanOutHandlers, SubscriptionsController, DeliveriesController, InboundController],
  providers: notificationProviders,
  // The worker sends from its own rows: it need not wait for the fan-out consumer to rejoin after a restart.
  backgroundAtOnce: [DELIVERY_WORKER, DELIVERY_JANITOR],
  // Inbound webhooks are verified against the exact bytes that were signed.
  rawBody: true,
  openApi: { title: 'Flotilla notification', description: 'Webhook subscriptions (Standard Webhooks: signed, retried, dead-lettered, replayable) and webhooks in (GitHub pull requests, signed senders). Deliveries are read from the projection.' },
});
