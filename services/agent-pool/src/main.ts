import { telemetry } from './instrumentation';
import { TOPICS } from '@flotilla/contracts';
import type { KafkaEventsTransport } from '@flotilla/messaging';
import { defineService } from '@flotilla/service-kit';
import { checkAgentPoolConfig, agentPoolConfig } from './agent-pool.config';
import { DISPATCH_CONSUMER, POOL_METRICS_REPORTER } from './agent-pool.constants';
import { agentPoolProviders } from './agent-pool.providers';
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
  // The dispatches: the platform's consumer in hand-off mode, built with the pools it hands them to
  // (their bulkheads run them without holding up the fetch), in the composition root.
  transports: (_, provided) => [provided<KafkaEventsTransport>(DISPATCH_CONSUMER)],
  controllers: [TaskControlHandlers, PoolCapacityHandlers, PoolsController],
  providers: agentPoolProviders,
  background: [POOL_METRICS_REPORTER],
  openApi: { title: 'Flotilla agent pool', description: "This instance's pools per agent type: workers, slots, in flight, queued (ops)." },
});
