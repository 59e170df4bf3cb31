import { DurableTimers } from '@flotilla/event-store';
import { TimerPoller, timerFiringId, type ServiceContext } from '@flotilla/service-kit';
import type { Provider } from '@nestjs/common';
import { AdmissionCommands } from './admission/admission-commands';
import { Admitter } from './admission/admitter';
import { PostgresAdmissionStore } from './admission/infrastructure/admission-store';
import { ExecutionCommands } from './execution/execution-commands';
import { loadExecutionSettings } from './execution/infrastructure/execution-settings.loader';
import type { ExecutionTimerPayload } from './execution/ports';
import type { OrchestratorConfig } from './orchestrator.config';
import { ADMISSION_COMMANDS, ADMITTER, EXECUTION_COMMANDS, EXECUTION_SETTINGS, TIMER_POLLER } from './orchestrator.constants';

/** The orchestrator's composition root: its stores over PostgreSQL, its commands, and its two background loops. */
export function orchestratorProviders({ platform, config }: ServiceContext<OrchestratorConfig>): Provider[] {
  const settings = loadExecutionSettings(config.EXECUTION_SETTINGS_FILE, { capacity: config.ADMISSION_CAPACITY, perCustomerLimit: config.ADMISSION_PER_CUSTOMER_LIMIT });
  const store = new PostgresAdmissionStore(platform.pool, platform.store.schema);
  const timers = new DurableTimers<ExecutionTimerPayload>(platform.pool, platform.store.schema);
  // Circuit and capacity changes wake the admitter: tie the knot once it exists.
  const wake = { nudge: () => {} };
  const admission = new AdmissionCommands(platform, store, () => wake.nudge());
  const executions = new ExecutionCommands(platform, settings, timers, store, admission);
  const admitter = new Admitter(platform, executions, admission, store, platform.logger);
  wake.nudge = () => admitter.nudge();
  executions.onAdmissionChange(() => admitter.nudge());
  // Each firing is a FireTimer command recorded in the inbox under the timer's identity and due time,
  // so a timer that fired just before a crash (but was not yet removed) fires only once.
  const poller = new TimerPoller(
    timers,
    async (timer) => {
      const { executionId, ...due } = timer.payload;
      await executions.apply(executionId, { type: 'FireTimer', timer: { ...due, dueAt: timer.dueAt }, settings, now: Date.now() }, { causationId: null, inboxId: timerFiringId(timer) });
    },
    platform.logger,
    { spanName: (timer) => `timer.fire ${timer.payload.kind}`, spanAttributes: (timer) => ({ 'flotilla.correlation_id': timer.payload.executionId, 'flotilla.task_id': timer.payload.taskId }) },
  );
  // Factories, not useValue: Nest would otherwise walk these objects to compute the module's token.
  return [
    { provide: EXECUTION_SETTINGS, useFactory: () => settings },
    { provide: EXECUTION_COMMANDS, useFactory: () => executions },
    { provide: ADMITTER, useFactory: () => admitter },
    { provide: ADMISSION_COMMANDS, useFactory: () => admitter.commands },
    { provide: TIMER_POLLER, useFactory: () => poller },
  ];
}
