import { assertNever } from '@flotilla/domain';
import { poolRequestId, type PoolRequestPurpose, type ScaleSagaEvent, type ScaleSagaOutgoingCommand } from './scale-saga-messages';
import { activeTimer, type SagaIn, type ScaleSagaSettings, type ScaleSagaState, type ScaleSagaTimer, type StartedSaga } from './scale-saga';

/**
 * What follows from the saga's events besides its state: the commands each sends (through the
 * outbox, in the transaction of the event) and the change of the saga's one timer. Pure.
 */

/** The timer to cancel and the one to schedule when the saga goes from `before` to `after`; nothing when its step has not changed. */
export function timerChanges(before: ScaleSagaState, after: ScaleSagaState): { readonly schedule: readonly ScaleSagaTimer[]; readonly cancel: readonly string[] } {
  const was = activeTimer(before);
  const next = activeTimer(after);
  const cancel = was && was.timerId !== next?.timerId ? [was.timerId] : [];
  // The same id scheduled again moves the timer (a compensation sent again waits anew).
  const schedule = next && (was?.timerId !== next.timerId || was.dueAt !== next.dueAt || was.attempt !== next.attempt) ? [next] : [];
  return { schedule, cancel };
}

/** The commands an event sends, given the state it led to. */
export function commandsFor(event: ScaleSagaEvent, after: ScaleSagaState, now: number, settings: ScaleSagaSettings): ScaleSagaOutgoingCommand[] {
  if (after.status === 'NotStarted') return [];
  switch (event.type) {
    case 'flotilla.scaling.ScaleSagaStarted':
      if (after.status === 'Reserving' && after.reservationId !== null && after.reservationExpiresAt !== null) {
        const { reservationId, budgetId, amountMicros, reservationExpiresAt: expiresAt } = after;
        return [{ type: 'flotilla.budget.BudgetReservationRequested', data: { reservationId, budgetId, amountMicros, expiresAt, requestedBy: settings.requestedBy, requestedAt: now } }];
      }
      return [poolRequest(after, 'scale', after.toReplicas, `${after.reason} (scale saga ${after.sagaId})`, now, settings)];
    case 'flotilla.scaling.ScaleBudgetReserved':
    case 'flotilla.scaling.ScaleBudgetWaived':
      return [poolRequest(after, 'scale', after.toReplicas, `${after.reason} (scale saga ${after.sagaId})`, now, settings)];
    case 'flotilla.scaling.ScaleReplicasReached':
      return after.reservationId === null ? [] : [{ type: 'flotilla.budget.BudgetReservationCommitRequested', data: { reservationId: after.reservationId, budgetId: after.budgetId, requestedAt: now } }];
    case 'flotilla.scaling.ScaleSagaCompensationStarted':
    case 'flotilla.scaling.ScaleCompensationStepRetried':
    case 'flotilla.scaling.ScaleCompensationStepCompleted':
      return after.status === 'Compensating' ? compensationCommand(after, now, settings) : [];
    case 'flotilla.scaling.ScaleActionDenied':
    case 'flotilla.scaling.ScaleReplicasAccepted':
    case 'flotilla.scaling.ScaleWorkerReady':
    case 'flotilla.scaling.ScaleSagaCompleted':
    case 'flotilla.scaling.ScaleSagaCompensated':
    case 'flotilla.alert.AlertRaised':
      return [];
    default:
      return assertNever(event, 'scale saga event');
  }
}

/** The command of the current compensation (sent again on each retry: idempotent by its id). */
function compensationCommand(state: SagaIn<'Compensating'>, now: number, settings: ScaleSagaSettings): ScaleSagaOutgoingCommand[] {
  const step = state.remaining[0];
  switch (step) {
    case undefined:
      return [];
    case 'roll_back_replicas':
      return [poolRequest(state, 'rollback', state.fromReplicas, `roll back scale saga ${state.sagaId}: ${state.failure.reason}`, now, settings)];
    case 'release_budget':
      if (state.reservationId === null) return [];
      return [
        {
          type: 'flotilla.budget.BudgetReservationReleaseRequested',
          data: { reservationId: state.reservationId, budgetId: state.budgetId, reason: `scale saga ${state.sagaId} failed at ${state.failure.step}: ${state.failure.reason}`, requestedAt: now },
        },
      ];
    default:
      return assertNever(step, 'compensation');
  }
}

function poolRequest(state: StartedSaga, purpose: PoolRequestPurpose, replicas: number, reason: string, now: number, settings: ScaleSagaSettings): ScaleSagaOutgoingCommand {
  return { type: 'flotilla.pool.PoolReplicasRequested', data: { requestId: poolRequestId(state.sagaId, purpose), agentType: state.agentType, replicas, reason, requestedBy: settings.requestedBy, requestedAt: now } };
}
