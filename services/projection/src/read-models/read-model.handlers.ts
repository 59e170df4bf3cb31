import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { LIVE_PROJECTOR } from '../projection.constants';
import { READ_MODEL_EVENTS, type ReadModelProjector } from './read-model-events';

/**
 * Routes the live consumer's events to the live generation of the read models. What each event
 * changes is data in read-model-events.ts, shared with the rebuild, so the two cannot drift apart;
 * event types not listed there are acknowledged and skipped by the transport.
 */
@Controller()
export class ReadModelHandlers {
  constructor(@Inject(LIVE_PROJECTOR) private readonly live: ReadModelProjector) {}

  @EventPattern(Object.keys(READ_MODEL_EVENTS))
  project(@Payload() event: ConsumedEvent): Promise<boolean> {
    return this.live.apply(event);
  }
}
