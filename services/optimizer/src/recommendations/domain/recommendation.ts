import type { RecommendationDismissed, RecommendationIssued } from '@flotilla/contracts';
import { assertNever, type Decider, type DomainEvent } from '@flotilla/domain';
import type { PoolRecommendation } from './over-provisioning';

/**
 * A recommendation, one per kind and pool (its id says which), recomputed on a schedule. It is issued
 * when first found and again when what it recommends changes (the workers, or for a schedule the
 * window its evidence names; not for every recomputation with the same advice); once dismissed it
 * stays dismissed, whatever later evidence says.
 *
 *   None ──Issue──▶ Open ──Issue (changed advice)──▶ Open
 *                    └──Dismiss──▶ Dismissed (final)
 */
export type RecommendationCommand =
  | { readonly type: 'Issue'; readonly recommendation: PoolRecommendation; readonly now: number }
  | { readonly type: 'Dismiss'; readonly agentType: string; readonly dismissedBy: string; readonly reason: string; readonly now: number };

export type RecommendationEvent =
  | DomainEvent<'flotilla.optimizer.RecommendationIssued', RecommendationIssued>
  | DomainEvent<'flotilla.optimizer.RecommendationDismissed', RecommendationDismissed>;

export type RecommendationState =
  | { readonly status: 'None' }
  | { readonly status: 'Open'; readonly issued: RecommendationIssued }
  | { readonly status: 'Dismissed'; readonly issued: RecommendationIssued | null; readonly dismissed: RecommendationDismissed };

export function recommendationIdOf(kind: string, agentType: string): string {
  return `${kind}:${agentType}`;
}

function decide(command: RecommendationCommand, state: RecommendationState): RecommendationEvent[] {
  switch (command.type) {
    case 'Issue': {
      if (state.status === 'Dismissed') return [];
      const r = command.recommendation;
      if (state.status === 'Open' && sameAdvice(state.issued, r)) return [];
      return [
        {
          type: 'flotilla.optimizer.RecommendationIssued',
          data: {
            recommendationId: recommendationIdOf(r.kind, r.agentType),
            kind: r.kind,
            agentType: r.agentType,
            summary: r.summary,
            currentWorkers: r.currentWorkers,
            recommendedWorkers: r.recommendedWorkers,
            estimatedMonthlySavingMicros: r.estimatedMonthlySavingMicros,
            confidence: r.confidence,
            evidence: { ...r.evidence, efficiency: r.efficiency.toFixed(3) },
            issuedAt: command.now,
          },
        },
      ];
    }
    case 'Dismiss': {
      if (state.status !== 'Open') return [];
      return [{ type: 'flotilla.optimizer.RecommendationDismissed', data: { recommendationId: state.issued.recommendationId, agentType: command.agentType, dismissedBy: command.dismissedBy, reason: command.reason, dismissedAt: command.now } }];
    }
    default:
      return assertNever(command);
  }
}

function sameAdvice(issued: RecommendationIssued, r: PoolRecommendation): boolean {
  return issued.kind === r.kind && issued.currentWorkers === r.currentWorkers && issued.recommendedWorkers === r.recommendedWorkers && issued.evidence.window === r.evidence.window;
}

function evolve(state: RecommendationState, event: RecommendationEvent): RecommendationState {
  switch (event.type) {
    case 'flotilla.optimizer.RecommendationIssued':
      return state.status === 'Dismissed' ? state : { status: 'Open', issued: event.data };
    case 'flotilla.optimizer.RecommendationDismissed':
      return { status: 'Dismissed', issued: state.status === 'Open' ? state.issued : null, dismissed: event.data };
    default:
      return assertNever(event, 'recommendation event');
  }
}

export const recommendationDecider: Decider<RecommendationCommand, RecommendationEvent, RecommendationState> = { initialState: { status: 'None' }, decide, evolve };
