import type { Logger } from '@flotilla/observability';
import { PollingLoop, type BackgroundWork } from '@flotilla/service-kit';
import { randomUUID } from 'node:crypto';
import type { Active } from './domain/pool-replicas';
import { planProvisioning, type PlanSettings } from './domain/pool-replicas.plan';
import type { PoolReplicasCommands } from './pool-replicas.commands';
import type { WorkerProvisioner, WorkerSighting } from './ports';

export interface ProvisioningLoopOptions {
  readonly commands: PoolReplicasCommands;
  readonly provisioner: WorkerProvisioner;
  readonly plan: PlanSettings;
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * Brings each provisioned pool to its record, again and again: looks at its workers (ready, gone,
 * drained), records what changed, then starts, drains or stops workers by the pool's plan. Every step
 * is recorded before it is done (a worker is recorded starting before its process exists), so an
 * agent pool killed at any moment resumes from the record: a worker it never started is found gone
 * and replaced; one it did start is found running and watched again.
 *
 * A provisioner whose platform names the workers (`naming: 'platform'`, the pods of a Deployment)
 * gets the pool's count instead (`scale`, on its first round and whenever the plan starts or drains
 * workers), and the workers it reports that the record lacks are recorded starting (and ready) as
 * found: so after a restart the record takes its workers from the pods that are there.
 */
export class ProvisioningLoop implements BackgroundWork {
  private readonly loop: PollingLoop;
  private readonly now: () => number;
  /** Pools whose count this loop has set since it started, and not failed to set since (a platform-naming provisioner's). */
  private readonly scaled = new Set<string>();

  constructor(private readonly options: ProvisioningLoopOptions) {
    this.now = options.now ?? Date.now;
    this.loop = new PollingLoop('provisioning pools', () => this.once(), options.logger, options.intervalMs);
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.options.provisioner.close();
  }

  /** One round over every provisioned pool. */
  async once(): Promise<void> {
    const { commands } = this.options;
    for (const agentType of commands.provisioned) {
      const state = commands.state(agentType);
      if (state.status === 'Active') await this.reconcile(agentType, state);
    }
  }

  private async reconcile(agentType: string, state: Active): Promise<void> {
    const { commands, provisioner } = this.options;
    const sightings = await provisioner.inspect(agentType, Object.values(state.workers));
    for (const [workerId, sighting] of sightings) {
      const worker = state.workers[workerId];
      if (!worker) {
        if (provisioner.naming === 'platform') await this.record(agentType, workerId, sighting);
        continue;
      }
      if (sighting.state === 'ready' && worker.status === 'starting') await commands.observe(agentType, { type: 'ObserveWorkerReady', workerId, now: this.now() });
      // The platform took it away (its own scale-down choice, an eviction): it drains as if asked.
      if (sighting.state === 'draining' && worker.status !== 'draining') await commands.observe(agentType, { type: 'ObserveWorkerDraining', workerId, now: this.now() });
      if (sighting.state === 'exited') {
        await commands.observe(
          agentType,
          sighting.drained ? { type: 'ObserveWorkerDrained', workerId, handedBack: sighting.drained.handedBack, now: this.now() } : { type: 'ObserveWorkerFailed', workerId, reason: `the worker ${sighting.reason}`, now: this.now() },
        );
      }
    }
    const current = commands.state(agentType);
    if (current.status !== 'Active') return;
    const plan = planProvisioning(current, this.now(), this.options.plan);
    for (const workerId of plan.startTimedOut) {
      await commands.observe(agentType, { type: 'ObserveWorkerFailed', workerId, reason: `not ready within ${this.options.plan.startTimeoutMs} ms`, now: this.now() });
      await provisioner.stop(workerId);
    }
    for (const workerId of plan.drainTimedOut) {
      await provisioner.stop(workerId);
      await commands.observe(agentType, { type: 'ObserveWorkerFailed', workerId, reason: `did not drain within ${this.options.plan.drainTimeoutMs} ms and was stopped; what it held goes back to the group`, now: this.now() });
    }
    for (const workerId of plan.drain) {
      await commands.observe(agentType, { type: 'ObserveWorkerDraining', workerId, now: this.now() });
      await provisioner.drain(workerId);
    }
    if (provisioner.naming === 'platform') {
      // The platform starts and names the workers (inspect reports them next round); the drained ones were marked to go first.
      if (plan.start > 0 || plan.drain.length > 0 || !this.scaled.has(agentType)) {
        this.scaled.delete(agentType); // until it succeeds: a failed scale is tried again next round
        await provisioner.scale(agentType, current.desired);
        this.scaled.add(agentType);
      }
      return;
    }
    for (let i = 0; i < plan.start; i++) {
      const workerId = `${agentType}-${randomUUID().slice(0, 8)}`;
      await commands.observe(agentType, { type: 'ObserveWorkerStarting', workerId, now: this.now() });
      try {
        await provisioner.launch(agentType, workerId);
      } catch (error) {
        await commands.observe(agentType, { type: 'ObserveWorkerFailed', workerId, reason: `could not be started: ${(error as Error).message}`, now: this.now() });
      }
    }
  }

  /** A worker the platform started and named that the record lacks: recorded starting when it was created, and ready if it is. */
  private async record(agentType: string, workerId: string, sighting: WorkerSighting): Promise<void> {
    if (sighting.state !== 'starting' && sighting.state !== 'ready') return;
    const now = this.now();
    await this.options.commands.observe(agentType, { type: 'ObserveWorkerStarting', workerId, now: Math.min(now, sighting.createdAt ?? now) });
    if (sighting.state === 'ready') await this.options.commands.observe(agentType, { type: 'ObserveWorkerReady', workerId, now });
  }
}
