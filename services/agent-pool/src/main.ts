import { telemetry } from './instrumentation';
import { AGENT_TYPES, TOPICS } from '@flotilla/contracts';
import type { KafkaEventsTransport } from '@flotilla/messaging';
import { defineService } from '@flotilla/service-kit';
import { checkAgentPoolConfig, agentPoolConfig } from './agent-pool.config';
import { DISPATCH_CONSUMER, ORPHAN_WATCH, POOL_METRICS_REPORTER, PROVISIONING_LOOP } from './agent-pool.constants';
import { agentPoolProviders, MIGRATIONS_DIR } from './agent-pool.providers';
import { PoolCapacityHandlers } from './pools/pool-capacity.handlers';
import { PoolsController } from './pools/pools.controller';
import { PoolReplicasHandlers } from './replicas/pool-replicas.handlers';
import { TaskControlHandlers } from './task-attempts/task-control.handlers';

// One program, two roles: the agent pool service (embedded pools, and the supervisor of provisioned
// ones), or one worker of one provisioned pool, started by that supervisor (AGENT_POOL_ROLE=worker).
const worker = process.env.AGENT_POOL_ROLE === 'worker';
const listed = (value: string | undefined, otherwise: readonly string[]) => (value === undefined ? otherwise : value.split(',').map((t) => t.trim()).filter(Boolean));
// Whether this process runs any pool itself, and so consumes dispatches (the configuration, validated below, says the same).
const embedsPools = worker || listed(process.env.AGENT_TYPES, AGENT_TYPES).some((t) => !listed(process.env.PROVISIONED_AGENT_TYPES, []).includes(t));

void defineService(telemetry, {
  name: 'agent-pool',
  httpPort: 3002,
  config: agentPoolConfig,
  checkConfig: checkAgentPoolConfig,
  migrationsDir: MIGRATIONS_DIR,
  consumers: [
    // Every instance reads every cancellation and capacity command (a group of its own each), from
    // topics apart from the dispatches, so they never queue behind the tasks they are about.
    { name: 'control', topics: [TOPICS.taskControl], broadcast: true },
    // Pool commands are for the service (its embedded pools' slots, its provisioned pools' replicas), not its workers.
    ...(worker ? [] : [{ name: 'pool-commands', topics: [TOPICS.poolCommands], broadcast: true }]),
    // Replica requests in a durable group of their own: one sent while the agent pool is down waits for it.
    ...(worker ? [] : [{ name: 'replicas', topics: [TOPICS.replicaCommands] }]),
  ],
  // The dispatches: the platform's consumer in hand-off mode, built with the pools it hands them to
  // (their bulkheads run them without holding up the fetch), in the composition root.
  transports: (_, provided) => (embedsPools ? [provided<KafkaEventsTransport>(DISPATCH_CONSUMER)] : []),
  controllers: worker ? [TaskControlHandlers, PoolsController] : [TaskControlHandlers, PoolCapacityHandlers, PoolReplicasHandlers, PoolsController],
  providers: agentPoolProviders,
  background: worker ? [POOL_METRICS_REPORTER, ORPHAN_WATCH] : [POOL_METRICS_REPORTER, PROVISIONING_LOOP],
  openApi: { title: 'Flotilla agent pool', description: "This instance's pools per agent type: workers, slots, in flight, queued (ops)." },
});
