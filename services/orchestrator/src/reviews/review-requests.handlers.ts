import type { ReviewRequested } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EXECUTION_COMMANDS } from '../orchestrator.constants';
import type { ExecutionCommands } from '../execution/execution-commands';
import { reviewExecution } from './domain/review-execution';

/**
 * Turns review requests into review executions: once per event (the inbox), and once per review
 * (its execution id is the review's), so a review asked twice runs once.
 */
@Controller()
export class ReviewRequestHandlers {
  constructor(@Inject(EXECUTION_COMMANDS) private readonly executions: ExecutionCommands) {}

  @EventPattern('flotilla.review.ReviewRequested')
  async onReviewRequested(@Payload() event: ConsumedEvent<ReviewRequested>): Promise<void> {
    const { eventId, payload } = event.envelope;
    const { executionId, command } = reviewExecution(payload, { eventId, settings: this.executions.settings, now: Date.now() });
    await this.executions.apply(executionId, command, { causationId: eventId, inboxId: eventId });
  }
}
