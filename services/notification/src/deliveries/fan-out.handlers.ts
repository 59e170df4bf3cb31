import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DELIVERIES } from '../notification.constants';
import { DELIVERABLE_EVENT_TYPES } from '../notification.topics';
import type { Deliveries } from './deliveries';

/** Every deliverable event, fanned out to the subscriptions it matches. */
@Controller()
export class FanOutHandlers {
  constructor(@Inject(DELIVERIES) private readonly deliveries: Deliveries) {}

  @EventPattern([...DELIVERABLE_EVENT_TYPES])
  onEvent(@Payload() event: ConsumedEvent): Promise<void> {
    return this.deliveries.fanOut(event);
  }
}
