import type {
  AdmissionCapacityChanged,
  AlertRaised,
  CustomerCircuitClosed,
  CustomerCircuitHalfOpened,
  CustomerCircuitOpened,
  ExecutionQueued,
  SlaViolated,
} from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { PLATFORM, type Platform } from '@flotilla/service-kit';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ReadSideRepository } from '../infrastructure/read-side.repository';
import { READ_SIDE_REPOSITORY, READ_MODEL_CHANGES } from '../projection.constants';
import { project } from './projector';
import type { ChangeFeed } from './change-feed';

/** Admission, SLA, alert and circuit events into their read models; each event applies exactly once. */
@Controller()
export class ReadSideProjectionHandlers {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(READ_MODEL_CHANGES) private readonly feed: ChangeFeed,
    @Inject(READ_SIDE_REPOSITORY) private readonly readSide: ReadSideRepository,
  ) {}

  @EventPattern('flotilla.execution.ExecutionQueued')
  onQueued(@Payload() event: ConsumedEvent<ExecutionQueued>) {
    return project(this.platform, this.feed, event, (c) => this.readSide.queued(c, event.envelope.payload));
  }

  @EventPattern('flotilla.execution.SlaViolated')
  onSlaViolated(@Payload() event: ConsumedEvent<SlaViolated>) {
    return project(this.platform, this.feed, event, (c) => this.readSide.slaViolated(c, event.envelope.payload));
  }

  @EventPattern('flotilla.alert.AlertRaised')
  onAlert(@Payload() event: ConsumedEvent<AlertRaised>) {
    return project(this.platform, this.feed, event, (c) => this.readSide.alert(c, event.envelope.payload));
  }

  @EventPattern('flotilla.admission.CustomerCircuitOpened')
  onCircuitOpened(@Payload() event: ConsumedEvent<CustomerCircuitOpened>) {
    const e = event.envelope.payload;
    return project(this.platform, this.feed, event, (c) => this.readSide.circuit(c, e.customerId, 'open', e.openedAt));
  }

  @EventPattern('flotilla.admission.CustomerCircuitHalfOpened')
  onCircuitHalfOpened(@Payload() event: ConsumedEvent<CustomerCircuitHalfOpened>) {
    const e = event.envelope.payload;
    return project(this.platform, this.feed, event, (c) => this.readSide.circuit(c, e.customerId, 'half_open', e.halfOpenedAt));
  }

  @EventPattern('flotilla.admission.CustomerCircuitClosed')
  onCircuitClosed(@Payload() event: ConsumedEvent<CustomerCircuitClosed>) {
    const e = event.envelope.payload;
    return project(this.platform, this.feed, event, (c) => this.readSide.circuit(c, e.customerId, 'closed', e.closedAt));
  }

  @EventPattern('flotilla.admission.AdmissionCapacityChanged')
  onCapacityChanged(@Payload() event: ConsumedEvent<AdmissionCapacityChanged>) {
    const e = event.envelope.payload;
    return project(this.platform, this.feed, event, (c) => this.readSide.capacity(c, e.capacity, e.changedAt));
  }
}
