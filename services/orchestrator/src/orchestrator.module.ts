import { Inject, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PLATFORM, type Platform } from '@flotilla/service-kit';
import { AdmissionCommands } from './application/admission-commands';
import { AdmissionEventHandlers } from './application/admission.handlers';
import { Admitter } from './application/admitter';
import { ExecutionCommands } from './application/execution-commands';
import { ExecutionEventHandlers } from './application/execution.handlers';
import { TimerPoller } from './application/timer-poller';
import type { ExecutionSettings } from './domain/execution/policies';
import { AdmissionController } from './http/admission.controller';
import { ExecutionsController } from './http/executions.controller';
import { AdmissionStore } from './infrastructure/admission-store';
import { TimerStore } from './infrastructure/timer-store';
import { ADMISSION_COMMANDS, ADMITTER, EXECUTION_COMMANDS, EXECUTION_SETTINGS } from './orchestrator.constants';

const TIMER_POLLER = Symbol('TIMER_POLLER');
const ADMISSION_STORE = Symbol('ADMISSION_STORE');

/** The background loops: durable timers and admission rounds. */
class BackgroundLoops implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private started = false;

  constructor(
    @Inject(TIMER_POLLER) private readonly poller: TimerPoller,
    @Inject(ADMITTER) private readonly admitter: Admitter,
    @Inject(PLATFORM) private readonly platform: Platform,
  ) {}

  onApplicationBootstrap() {
    // Not before the consumers have joined: a due heartbeat timer must not fire while the heartbeats
    // that would have pushed it back still wait, unread, behind a restart.
    void this.platform.consumersJoined.then(() => {
      this.started = true;
      this.poller.start();
      this.admitter.start();
    });
  }

  // Before the platform's own shutdown hook closes the database pool.
  async beforeApplicationShutdown() {
    if (this.started) await Promise.all([this.poller.stop(), this.admitter.stop()]);
  }
}

@Module({
  controllers: [ExecutionEventHandlers, AdmissionEventHandlers, ExecutionsController, AdmissionController],
  providers: [
    { provide: ADMISSION_STORE, inject: [PLATFORM], useFactory: (platform: Platform) => new AdmissionStore(platform.pool, platform.store.schema) },
    {
      provide: EXECUTION_COMMANDS,
      inject: [PLATFORM, EXECUTION_SETTINGS, ADMISSION_STORE],
      useFactory: (platform: Platform, settings: ExecutionSettings, admission: AdmissionStore) =>
        new ExecutionCommands(platform, settings, new TimerStore(platform.pool, platform.store.schema), admission),
    },
    {
      provide: ADMITTER,
      inject: [PLATFORM, EXECUTION_COMMANDS, ADMISSION_STORE],
      useFactory: (platform: Platform, executions: ExecutionCommands, store: AdmissionStore) => {
        // Circuit and capacity changes wake the admitter that owns the commands: tie the knot late.
        const wake = { nudge: () => {} };
        const admitter = new Admitter(platform, executions, new AdmissionCommands(platform, store, () => wake.nudge()), store, platform.logger);
        wake.nudge = () => admitter.nudge();
        executions.onAdmissionChange(() => admitter.nudge());
        return admitter;
      },
    },
    { provide: ADMISSION_COMMANDS, inject: [ADMITTER], useFactory: (admitter: Admitter) => admitter.commands },
    { provide: TIMER_POLLER, inject: [EXECUTION_COMMANDS, PLATFORM], useFactory: (commands: ExecutionCommands, platform: Platform) => new TimerPoller(commands, platform.logger) },
    BackgroundLoops,
  ],
})
export class OrchestratorModule {}
