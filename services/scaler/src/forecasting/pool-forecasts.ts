import type { PoolMetricsReported } from '@flotilla/contracts';
import type { Logger } from '@flotilla/observability';
import { createArrivalForecaster, type ArrivalForecaster } from './domain/arrival-forecaster';
import type { ArrivalForecasterState } from './domain/forecaster-state';
import { createPredictiveAdvisor, type PredictiveAdvisor, type ShadowRecord } from './domain/predictive-advisor';
import { addShadow, EMPTY_SHADOW_BOOK, scoreShadows, summarizeShadows, type ShadowBook, type ShadowSummary } from './domain/shadow-book';
import type { ForecasterRows } from './ports';
import type { PredictiveInput } from '../scaling/domain/scaling-pool';
import type { ScalingPolicy } from '../policies/domain/scaling-policy';

/**
 * Each pool's arrival forecaster, fed by its metrics reports, and the advice it gives an evaluation.
 * The state is kept in memory and saved when a step closes (a restart loses at most the open step).
 * In forecast-only mode each pool's shadow records wait here to be scored once their window has
 * passed; the tally is in memory only (a restart starts it again; the forecaster's own error
 * tracking, which decides whether a forecast may be used, is saved with its state).
 */
export class PoolForecasts {
  private readonly forecaster: ArrivalForecaster = createArrivalForecaster();
  private readonly advisor: PredictiveAdvisor = createPredictiveAdvisor(this.forecaster);
  private readonly states = new Map<string, ArrivalForecasterState>();
  private readonly savedSteps = new Map<string, number>();
  private readonly shadowBooks = new Map<string, ShadowBook>();
  private loading: Promise<void> | null = null;

  constructor(
    private readonly rows: ForecasterRows,
    private readonly logger: Logger,
  ) {}

  /** Reads the saved forecasters once (after the service's migrations have run). */
  loaded(): Promise<void> {
    this.loading ??= this.rows.load().then((saved) => {
      for (const [agentType, stored] of saved) {
        const { state, discarded } = this.forecaster.restore(stored);
        if (discarded) this.logger.warn({ agentType, discarded }, 'a stored forecaster could not be used; it starts again');
        else this.states.set(agentType, state);
      }
    });
    return this.loading;
  }

  report(report: PoolMetricsReported): void {
    this.states.set(report.agentType, this.forecaster.recordPoolMetrics(this.state(report.agentType), report));
  }

  /**
   * The forecast's part in an evaluation (null when the policy has prediction off): in
   * forecast_and_scale with a usable forecast, the rate to provision for; otherwise what it would
   * have done (the shadow record) or why it is not used, for the decision event.
   */
  async advise(policy: ScalingPolicy, now: number, observedArrivalRatePerSec: number | null, timeToReadyMs: number | null): Promise<PredictiveInput | null> {
    if (policy.predictive.mode === 'off') return null;
    await this.loaded();
    const state = this.forecaster.closeElapsedSteps(this.state(policy.agentType), now);
    this.states.set(policy.agentType, state);
    await this.saveIfStepClosed(policy.agentType, state);
    const advice = this.advisor.advise({
      mode: policy.predictive.mode,
      now,
      horizonMs: policy.predictive.horizonSeconds * 1000,
      // Before the first worker was measured, provision ahead by a conservative 30 s.
      timeToReadyMs: timeToReadyMs ?? 30_000,
      observedArrivalRatePerSec: observedArrivalRatePerSec ?? 0,
      forecaster: state,
    });
    const shadowTally = this.tallyShadow(policy.agentType, advice.source === 'reactive' ? advice.shadow : null, state, now);
    // The points (one per step of the window, with their band) go with the decision: the read side draws them.
    const record = policy.predictive.mode === 'forecast_only' ? { ...advice, shadowTally } : advice;
    return { provisionForRatePerSec: advice.source === 'forecast' ? advice.provisionForRatePerSec : null, record };
  }

  /** The pool's forecast-only tally so far (null when it never had a shadow record). */
  shadowSummary(agentType: string): ShadowSummary | null {
    const book = this.shadowBooks.get(agentType);
    return book ? summarizeShadows(book) : null;
  }

  /** Adds this evaluation's shadow record, if any, and scores the waiting ones whose window has passed. */
  private tallyShadow(agentType: string, shadow: ShadowRecord | null, state: ArrivalForecasterState, now: number): ShadowSummary | null {
    const before = this.shadowBooks.get(agentType);
    if (!shadow && !before) return null;
    let book = before ?? EMPTY_SHADOW_BOOK;
    if (shadow) book = addShadow(book, shadow, this.forecaster.settings.stepMs);
    book = scoreShadows(book, this.advisor.scoreShadow, state, now);
    this.shadowBooks.set(agentType, book);
    return summarizeShadows(book);
  }

  private state(agentType: string): ArrivalForecasterState {
    return this.states.get(agentType) ?? this.forecaster.initialState;
  }

  private async saveIfStepClosed(agentType: string, state: ArrivalForecasterState): Promise<void> {
    const closed = this.forecaster.describe(state).lastObservedStep ?? -1;
    if (this.savedSteps.get(agentType) === closed) return;
    await this.rows.save(agentType, state);
    this.savedSteps.set(agentType, closed);
  }
}
