import type { Logger } from '@flotilla/observability';
import { AdvisoryLeadership, PollingLoop, type BackgroundWork } from '@flotilla/service-kit';
import { v7 as uuidv7 } from 'uuid';
import { isAgentType, taskDispatchTopic } from '@flotilla/contracts';
import type { PoolForecasts } from '../forecasting/pool-forecasts';
import type { PoolObservationsStore } from '../observations/pool-observations.store';
import type { PoolReplicasView } from '../observations/pool-replicas.view';
import type { GroupLag } from '../observations/ports';
import type { WorkerPrices } from '../prices/worker-prices';
import type { ScalingPools } from './scaling-pools';

export interface ScalingLoopOptions {
  readonly pools: ScalingPools;
  readonly observations: PoolObservationsStore;
  readonly replicas: PoolReplicasView;
  readonly lag: GroupLag;
  readonly forecasts: PoolForecasts;
  /** The optimizer's prices, which a saga started by a decision reserves at. */
  readonly prices: WorkerPrices;
  /** Pools the scaler acts on; the others are evaluated in shadow (decisions recorded, nothing done). */
  readonly scaled: readonly string[];
  readonly staleAfterMs: number;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** One instance evaluates at a time (see the class comment). */
  readonly leadership: AdvisoryLeadership;
  readonly now?: () => number;
}

/**
 * Every interval (HPA's sync period), each pool with a policy is evaluated from what the scaler has
 * seen of it: its workers' reports, or, when none reports (scaled to zero), its group's lag read
 * directly; its size as the agent pool recorded it; and the forecast's advice.
 *
 * Only the instance holding the lead evaluates (a PostgreSQL advisory lock, as the orchestrator's
 * admitter): two scalers evaluating the same pool would each move its stabilization history and
 * record a decision for the same moment. Every instance still hears every metrics report (its group
 * is a broadcast one), so one taking over the lead has the same observations and forecasts.
 */
export class ScalingLoop implements BackgroundWork {
  private readonly loop: PollingLoop;
  private readonly now: () => number;

  constructor(private readonly options: ScalingLoopOptions) {
    this.now = options.now ?? Date.now;
    // A failed round gives the lead up, so that a healthier instance may take it.
    this.loop = new PollingLoop(
      'evaluating pools',
      async () => {
        if (await options.leadership.acquire()) await this.round();
      },
      options.logger,
      options.intervalMs,
      () => void options.leadership.release(),
    );
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.options.leadership.release();
    await this.options.lag.close();
  }

  async round(): Promise<void> {
    const { pools, observations, replicas, forecasts } = this.options;
    await Promise.all([replicas.loaded(), this.options.prices.loaded()]);
    for (const [agentType, state] of await pools.all()) {
      if (state.status !== 'Managed' || !state.policy) continue;
      const now = this.now();
      const row = replicas.get(agentType);
      const view = { staleAfterMs: this.options.staleAfterMs, slotsPerWorker: row?.slotsPerWorker ?? 1, partitions: dispatchPartitions(agentType) };
      let snapshot = observations.snapshot(agentType, now, view);
      if (snapshot.reportingWorkers === 0) {
        try {
          observations.groupLag(agentType, await this.options.lag.of(agentType), now);
          snapshot = observations.snapshot(agentType, now, view);
        } catch (error) {
          this.options.logger.warn({ err: error, agentType }, 'the pool\'s lag could not be read; it is evaluated without it');
        }
      }
      const predictive = await forecasts.advise(state.policy, now, snapshot.arrivalRatePerSec, observations.timeToReadyMs(agentType));
      await pools.apply(agentType, {
        type: 'Evaluate',
        decisionId: uuidv7(),
        snapshot,
        currentReplicas: row?.replicas ?? snapshot.reportingWorkers,
        mode: this.options.scaled.includes(agentType) ? 'act' : 'shadow',
        predictive,
        now,
      });
    }
  }
}

/** The partitions of the pool's dispatch topic, from the one topic catalogue; null for a name it does not know. */
function dispatchPartitions(agentType: string): number | null {
  return isAgentType(agentType) ? taskDispatchTopic(agentType).partitions : null;
}
