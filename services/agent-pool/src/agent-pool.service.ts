import { TOPICS } from '@flotilla/contracts';
import type { KafkaEventsTransport } from '@flotilla/messaging';
import type { ServiceDeclaration } from '@flotilla/service-kit';
import { agentPoolConfig, checkAgentPoolConfig, embeddedAgentTypes } from './agent-pool.config';
import { DISPATCH_CONSUMER, ORPHAN_WATCH, POOL_METRICS_REPORTER, PROVISIONING_LOOP } from './agent-pool.constants';
import { agentPoolProviders, MIGRATIONS_DIR } from './agent-pool.providers';
import { PoolCapacityHandlers } from './pools/pool-capacity.handlers';
import { PoolsController } from './pools/pools.controller';
import { PoolReplicasHandlers } from './replicas/pool-replicas.handlers';
import { TaskControlHandlers } from './task-attempts/task-control.handlers';

type AgentPoolDeclaration = ServiceDeclaration<typeof agentPoolConfig>;

/** What both roles share: configuration, migrations, the composition root, cancellations, the dispatch consumer. */
const common = {
  name: 'agent-pool',
  httpPort: 3002,
  config: agentPoolConfig,
  checkConfig: checkAgentPoolConfig,
  migrationsDir: MIGRATIONS_DIR,
  providers: agentPoolProviders,
  // The dispatches: the platform's consumer in hand-off mode, built with the pools it hands them to
  // (their bulkheads run them without holding up the fetch), in the composition root; none when
  // every pool of the service is provisioned as workers of their own.
  transports: ({ config }, provided) => (embeddedAgentTypes(config).length > 0 ? [provided<KafkaEventsTransport>(DISPATCH_CONSUMER)] : []),
  openApi: { title: 'Flotilla agent pool', description: "This instance's pools per agent type: workers, slots, in flight, queued (ops)." },
} satisfies Partial<AgentPoolDeclaration>;

/** Every instance reads every cancellation (a group of its own each), apart from the dispatches, so none queues behind the tasks it is about. */
const cancellations = { name: 'control', topics: [TOPICS.taskControl], broadcast: true };

/** The agent pool service: its embedded pools, and the supervisor of the provisioned ones. */
export const AGENT_POOL_SERVICE: AgentPoolDeclaration = {
  ...common,
  consumers: [
    cancellations,
    // Capacity commands for the embedded pools' slots, read by every instance.
    { name: 'pool-commands', topics: [TOPICS.poolCommands], broadcast: true },
    // Replica requests in a durable group of their own: one sent while the agent pool is down waits for it.
    { name: 'replicas', topics: [TOPICS.replicaCommands] },
  ],
  controllers: [TaskControlHandlers, PoolCapacityHandlers, PoolReplicasHandlers, PoolsController],
  background: [POOL_METRICS_REPORTER, PROVISIONING_LOOP],
};

/** One worker of one provisioned pool, started by the supervisor (AGENT_POOL_ROLE=worker): no pool commands, and it leaves when its supervisor is gone. */
export const AGENT_POOL_WORKER: AgentPoolDeclaration = {
  ...common,
  consumers: [cancellations],
  controllers: [TaskControlHandlers, PoolsController],
  background: [POOL_METRICS_REPORTER, ORPHAN_WATCH],
};
