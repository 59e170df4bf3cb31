import { telemetry } from './instrumentation';
import { TOPICS } from '@flotilla/contracts';
import { defineService } from '@flotilla/service-kit';
import { checkAgentPoolConfig, agentPoolConfig } from './agent-pool.config';
import { DISPATCH_INTAKE, POOL_METRICS_REPORTER } from './agent-pool.constants';
import { agentPoolProviders } from './agent-pool.providers';
import type { DispatchIntake } from './pools/infrastructure/dispatch-intake';
import { PoolCapacityHandlers } from './pools/pool-capacity.handlers';
import { PoolsController } from './pools/pools.controller';
import { TaskControlHandlers } from './task-attempts/task-control.handlers';

void defineService(telemetry, {
  name: 'agent-pool',
  httpPort: 3002,
  config: agentPoolConfig,
  checkConfig: checkAgentPoolConfig,
  consumers: [
    // Every instance reads every cancellation and capacity command (a group of its own each), from
    // topics apart from the dispatches, so they never queue behind the tasks they are about.
    { name: 'control', topics: [TOPICS.taskControl], broadcast: true },
    { name: 'pool-commands', topics: [TOPICS.poolCommands], broadcast: true },
  ],
  // The dispatches: taken off Kafka and handed to the pools' bulkheads without waiting for them to run.
  transports: (_, provided) => [provided<DispatchIntake>(DISPATCH_INTAKE)],
  controllers: [TaskControlHandlers, PoolCapacityHandlers, PoolsController],
  providers: agentPoolProviders,
  background: [POOL_METRICS_REPORTER],
  openApi: { title: 'Flotilla agent pool', description: "This instance's pools per agent type: workers, slots, in flight, queued (ops)." },
});
