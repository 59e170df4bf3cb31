import type { PoolReplicasRequested } from '@flotilla/contracts';
import { handleCommand } from '@flotilla/event-store';
import type { ConsumedEvent } from '@flotilla/messaging';
import type { Platform } from '@flotilla/service-kit';
import { INTERNAL_POOL_EVENTS, poolReplicasStreamId, type PoolBounds, type PoolReplicasCommand, type PoolReplicasEvent, type PoolReplicasState } from './domain/pool-replicas';
import { poolReplicasDecider } from './domain/pool-replicas.decider';

/**
 * The pools' replicas as commands on their streams (one per pool): requests from Kafka, with their
 * inbox entry, and the provisioner's observations. Commands of one pool run one after another here
 * (the event store would retry a conflict anyway), and the latest state of each pool is kept for the
 * provisioning loop.
 */
export class PoolReplicasCommands {
  private readonly states = new Map<string, PoolReplicasState>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly platform: Platform,
    readonly provisioned: readonly string[],
    readonly bounds: PoolBounds,
  ) {}

  /** The pool's state as of its last command here (Unset before the first). */
  state(agentType: string): PoolReplicasState {
    return this.states.get(agentType) ?? poolReplicasDecider.initialState;
  }

  /** Each provisioned pool's stream, read (and started with its initial replicas the very first time). */
  async initialise(initialReplicas: number): Promise<void> {
    for (const agentType of this.provisioned) await this.apply(agentType, { type: 'InitialiseReplicas', agentType, replicas: initialReplicas, bounds: this.bounds, now: Date.now() });
  }

  async request(event: ConsumedEvent<PoolReplicasRequested>): Promise<void> {
    const request = event.envelope.payload;
    // An instance that provisions no pool leaves replica requests to the one that does (the supervisor).
    if (this.provisioned.length === 0) return;
    if (!this.provisioned.includes(request.agentType)) {
      // Not a pool this supervisor provisions: its own stream would stay Unset and answer nothing, so
      // the refusal is published here, once per request (the inbox), for the saga to compensate.
      await this.apply(request.agentType, { type: 'RequestReplicas', request, bounds: this.bounds, now: Date.now() }, event, `pool ${request.agentType} is not provisioned as replicas here (PROVISIONED_AGENT_TYPES: ${this.provisioned.join(', ') || 'none'})`);
      return;
    }
    await this.apply(request.agentType, { type: 'RequestReplicas', request, bounds: this.bounds, now: Date.now() }, event);
  }

  observe(agentType: string, command: PoolReplicasCommand): Promise<readonly PoolReplicasEvent[]> {
    return this.apply(agentType, command);
  }

  private apply(agentType: string, command: PoolReplicasCommand, cause?: ConsumedEvent, refusal?: string): Promise<readonly PoolReplicasEvent[]> {
    const previous = this.queues.get(agentType) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(async () => {
      const result = await handleCommand({
        store: this.platform.store,
        decider: refusal ? refusingDecider(refusal) : poolReplicasDecider,
        streamId: poolReplicasStreamId(agentType),
        command,
        // Kept in the pool's stream only: what the provisioner is doing is not news for anyone else.
        route: (event) => (INTERNAL_POOL_EVENTS.has(event.type) ? [] : this.platform.route(event)),
        correlationId: command.type === 'RequestReplicas' ? command.request.requestId : agentType,
        causationId: cause?.envelope.eventId ?? null,
        inbox: cause ? { consumer: 'agent-pool.replicas', eventId: cause.envelope.eventId } : undefined,
      });
      if (result.status !== 'applied') return [];
      if (!refusal) this.states.set(agentType, result.state);
      for (const event of result.events) if (!INTERNAL_POOL_EVENTS.has(event.type)) this.platform.logger.info({ type: event.type, ...event.data }, 'pool replicas');
      return result.events;
    });
    this.queues.set(agentType, next);
    return next;
  }
}

/** Answers a request for a pool this service does not provision with a refusal, recorded in that pool's (otherwise empty) stream. */
function refusingDecider(reason: string): typeof poolReplicasDecider {
  return {
    ...poolReplicasDecider,
    decide: (command) =>
      command.type === 'RequestReplicas'
        ? [
            {
              type: 'flotilla.pool.PoolReplicasChanged',
              data: { requestId: command.request.requestId, agentType: command.request.agentType, outcome: 'rejected', reason, previousReplicas: 0, replicas: 0, readyReplicas: 0, slotsPerWorker: command.bounds.slotsPerWorker, provisioner: command.bounds.provisioner, changedAt: command.now },
            },
          ]
        : [],
  };
}
