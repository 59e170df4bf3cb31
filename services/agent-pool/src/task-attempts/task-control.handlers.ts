import type { TaskCancellationRequested } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { PLATFORM, type Platform } from '@flotilla/service-kit';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AGENT_POOLS } from '../agent-pool.constants';
import type { AgentPools } from '../pools/agent-pools';
import { RunningAttempts } from './running-attempts';

/** Cancellations reach every instance; the one holding the attempt stops it. */
@Controller()
export class TaskControlHandlers {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENT_POOLS) private readonly pools: AgentPools,
  ) {}

  /** Tells the attempt to stop if it waits or runs in this process (cancelled execution, or the orchestrator gave up on it). */
  @EventPattern('flotilla.task.TaskCancellationRequested')
  async onTaskCancellationRequested(@Payload() event: ConsumedEvent<TaskCancellationRequested>): Promise<void> {
    const { executionId, taskId, attempt, reason } = event.envelope.payload;
    const where = this.pools.cancel(RunningAttempts.key(executionId, taskId, attempt), reason);
    if (where !== 'none') this.platform.logger.info({ executionId, taskId, attempt, reason, where }, 'attempt cancelled');
  }
}
