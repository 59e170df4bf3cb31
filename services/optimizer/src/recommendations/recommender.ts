import { handleCommand } from '@flotilla/event-store';
import { PollingLoop, type BackgroundWork, type Platform } from '@flotilla/service-kit';
import { pricesFor, type PriceSheet } from '../costs/domain/price-sheet';
import { overProvisioning, type OverProvisioningPolicy } from './domain/over-provisioning';
import { recommendationDecider, recommendationIdOf, type RecommendationCommand, type RecommendationState } from './domain/recommendation';
import type { PoolSamples, RecommendationRows } from './ports';

/** Samples older than this are forgotten: two weeks covers the weekly patterns the schedule hints will need. */
const KEEP_SAMPLES_MS = 14 * 86_400_000;

/**
 * Recomputes the recommendations from the pools' metrics on a schedule (and at once when asked),
 * and applies each to its Recommendation aggregate: issued when new or changed, never again once
 * dismissed. Every instance may run it; the aggregates' streams keep concurrent rounds consistent.
 */
export class Recommender implements BackgroundWork {
  private readonly loop: PollingLoop;

  constructor(
    private readonly platform: Platform,
    private readonly samples: PoolSamples,
    private readonly rows: RecommendationRows,
    private readonly sheet: PriceSheet,
    private readonly policy: OverProvisioningPolicy,
    intervalMs: number,
  ) {
    this.loop = new PollingLoop('recomputing recommendations', () => this.round(), platform.logger, intervalMs);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One recomputation now (the API's refresh): the recommendations as they are after it. */
  async refresh(): Promise<RecommendationState[]> {
    await this.round();
    return this.rows.list();
  }

  async apply(recommendationId: string, agentType: string, command: RecommendationCommand): Promise<RecommendationState> {
    const result = await handleCommand({
      store: this.platform.store,
      decider: recommendationDecider,
      streamId: `Recommendation-${recommendationId}`,
      command,
      route: this.platform.route,
      correlationId: recommendationId,
      withinTransaction: async (client, applied) => {
        const last = applied[applied.length - 1];
        if (last) await this.rows.save(client, recommendationId, agentType, last.stateAfter);
      },
    });
    this.platform.relay.notifyCommitted();
    // No inbox here: a command is never a duplicate, so it was applied.
    if (result.status !== 'applied') throw new Error(`recommendation ${recommendationId}: command not applied`);
    return result.state;
  }

  private async round(): Promise<void> {
    const now = Date.now();
    const byType = await this.samples.since(now - this.policy.windowMs);
    for (const [agentType, samples] of byType) {
      const recommendation = overProvisioning(agentType, samples, now, pricesFor(this.sheet, agentType).workerHourMicros, this.policy);
      if (recommendation) await this.apply(recommendationIdOf(recommendation.kind, agentType), agentType, { type: 'Issue', recommendation, now });
    }
    await this.samples.prune(now - KEEP_SAMPLES_MS);
  }
}
