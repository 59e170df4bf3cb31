import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PLATFORM, type Platform } from '@flotilla/service-kit';
import { ExecutionCommands } from './application/execution-commands';
import { ExecutionEventHandlers } from './application/execution.handlers';
import { TimerPoller } from './application/timer-poller';
import type { ExecutionSettings } from './domain/execution/policies';
import { ExecutionsController } from './http/executions.controller';
import { TimerStore } from './infrastructure/timer-store';
import { EXECUTION_COMMANDS, EXECUTION_SETTINGS } from './orchestrator.constants';

const TIMER_POLLER = Symbol('TIMER_POLLER');

class TimerPollerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(TIMER_POLLER) private readonly poller: TimerPoller) {}
  onApplicationBootstrap() {
    this.poller.start();
  }
  // Runs before the platform closes the database pool (Nest calls shutdown hooks in reverse module order).
  async onApplicationShutdown() {
    await this.poller.stop();
  }
}

@Module({
  controllers: [ExecutionEventHandlers, ExecutionsController],
  providers: [
    {
      provide: EXECUTION_COMMANDS,
      inject: [PLATFORM, EXECUTION_SETTINGS],
      useFactory: (platform: Platform, settings: ExecutionSettings) => new ExecutionCommands(platform, settings, new TimerStore(platform.pool, platform.store.schema)),
    },
    { provide: TIMER_POLLER, inject: [EXECUTION_COMMANDS, PLATFORM], useFactory: (commands: ExecutionCommands, platform: Platform) => new TimerPoller(commands, platform.logger) },
    TimerPollerLifecycle,
  ],
})
export class OrchestratorModule {}
