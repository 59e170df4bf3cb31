import { handleCommand } from '@flotilla/event-store';
import { PollingLoop, type BackgroundWork, type Platform } from '@flotilla/service-kit';
import { pricesFor, type PriceSheet } from '@flotilla/contracts';
import { overProvisioning, type OverProvisioningPolicy } from './domain/over-provisioning';
import { scheduleRecommendations } from './domain/schedule-recommendations';
import { recommendationDecider, recommendationIdOf, type RecommendationCommand, type RecommendationState } from './domain/recommendation';
import type { PoolSamples, RecommendationRows } from './ports';

/**
 * Hourly rollups are kept four weeks: the daily pattern of schedule hints reads the last two, the
 * weekly one every week kept (up to four observations of each hour of the week). Raw reports only as
 * long as the window needs them.
 */
const KEEP_HOURS_MS = 28 * 86_400_000;

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
    const [recent, hourly] = await Promise.all([this.samples.since(now - this.policy.windowMs), this.samples.hourly(now - KEEP_HOURS_MS)]);
    for (const agentType of new Set([...recent.keys(), ...hourly.keys()])) {
      const { workerHourMicros } = pricesFor(this.sheet, agentType);
      const recommendations = [overProvisioning(agentType, recent.get(agentType) ?? [], now, workerHourMicros, this.policy), ...scheduleRecommendations(agentType, hourly.get(agentType) ?? [], now, workerHourMicros)];
      for (const recommendation of recommendations) {
        if (recommendation) await this.apply(recommendationIdOf(recommendation.kind, agentType), agentType, { type: 'Issue', recommendation, now });
      }
    }
    await this.samples.prune(now - this.policy.windowMs, now - KEEP_HOURS_MS);
  }
}
