import type {
  AlertRaised,
  BudgetReservationCommitRequested,
  BudgetReservationCommitted,
  BudgetReservationDenied,
  BudgetReservationReleased,
  BudgetReservationReleaseRequested,
  BudgetReservationRequested,
  BudgetReserved,
  PoolReplicasChanged,
  PoolReplicasReached,
  PoolReplicasRequested,
  PoolWorkerDrained,
  PoolWorkerFailed,
  PoolWorkerReady,
  ScaleActionDenied,
  ScaleBudgetReserved,
  ScaleBudgetWaived,
  ScaleCompensationRecord,
  ScaleCompensationStepCompleted,
  ScaleCompensationStepRetried,
  ScaleReplicasAccepted,
  ScaleReplicasReached,
  ScaleSagaCompensated,
  ScaleSagaCompensationStarted,
  ScaleSagaCompleted,
  ScaleSagaStarted,
  ScaleWorkerReady,
} from '@flotilla/contracts';
import { assertNever, type DomainEvent } from '@flotilla/domain';

/**
 * What a scale saga exchanges. Its own events are the contracts' flotilla.scaling.* records
 * (schemas/flotilla.scaling.*.avsc, published on flotilla.scaling keyed by agentType); the
 * optimizer's and the agent pool's messages are the contracts' too (the budget guard; the pool
 * replicas protocol). Times are epoch milliseconds, amounts integer micro-units.
 */
export type {
  ScaleActionDenied,
  ScaleBudgetReserved,
  ScaleBudgetWaived,
  ScaleCompensationStepCompleted,
  ScaleCompensationStepRetried,
  ScaleReplicasAccepted,
  ScaleReplicasReached,
  ScaleSagaCompensated,
  ScaleSagaCompensationStarted,
  ScaleSagaCompleted,
  ScaleSagaStarted,
  ScaleWorkerReady,
};

// The closed unions of the schemas' Avro enums, named for the domain.

/** up | down (Avro enum flotilla.scaling.ScaleDirection). */
export type ScaleDirection = ScaleSagaStarted['direction'];

/** The forward steps: a scale-up reserves, provisions, waits for ready and commits; a scale-down drains. */
export type SagaStep = ScaleSagaCompensationStarted['failedStep'];

/** The compensation of a forward step that may have taken effect; they run in reverse order of their steps. */
export type CompensationStep = ScaleCompensationStepRetried['step'];

/** Why a saga compensates. `reservation_lost`: the reservation expired (or was released) before it was committed. */
export type FailureCause = ScaleSagaCompensationStarted['cause'];

/** done: undone; not_needed: the forward step turned out to have had no effect; abandoned: could not be undone (an alert says so). */
export type CompensationOutcome = ScaleCompensationRecord['outcome'];

/** How one compensation ended: an item of ScaleSagaCompensated.compensations. */
export type CompensationRecord = ScaleCompensationRecord;

// ---- the saga's own events (stream ScaleSaga-<sagaId>, published on flotilla.scaling for the read side) ----

export type ScaleSagaEvent =
  | DomainEvent<'flotilla.scaling.ScaleSagaStarted', ScaleSagaStarted>
  | DomainEvent<'flotilla.scaling.ScaleBudgetReserved', ScaleBudgetReserved>
  | DomainEvent<'flotilla.scaling.ScaleBudgetWaived', ScaleBudgetWaived>
  | DomainEvent<'flotilla.scaling.ScaleActionDenied', ScaleActionDenied>
  | DomainEvent<'flotilla.scaling.ScaleReplicasAccepted', ScaleReplicasAccepted>
  | DomainEvent<'flotilla.scaling.ScaleWorkerReady', ScaleWorkerReady>
  | DomainEvent<'flotilla.scaling.ScaleReplicasReached', ScaleReplicasReached>
  | DomainEvent<'flotilla.scaling.ScaleSagaCompleted', ScaleSagaCompleted>
  | DomainEvent<'flotilla.scaling.ScaleSagaCompensationStarted', ScaleSagaCompensationStarted>
  | DomainEvent<'flotilla.scaling.ScaleCompensationStepRetried', ScaleCompensationStepRetried>
  | DomainEvent<'flotilla.scaling.ScaleCompensationStepCompleted', ScaleCompensationStepCompleted>
  | DomainEvent<'flotilla.scaling.ScaleSagaCompensated', ScaleSagaCompensated>
  | DomainEvent<'flotilla.alert.AlertRaised', AlertRaised>;

// ---- what the saga sends (through the outbox) and the answers it takes ----

/** To the optimizer on flotilla.budget-commands (keyed by budgetId), and to the agent pool on flotilla.replica-commands (keyed by agentType). */
export type ScaleSagaOutgoingCommand =
  | DomainEvent<'flotilla.budget.BudgetReservationRequested', BudgetReservationRequested>
  | DomainEvent<'flotilla.budget.BudgetReservationCommitRequested', BudgetReservationCommitRequested>
  | DomainEvent<'flotilla.budget.BudgetReservationReleaseRequested', BudgetReservationReleaseRequested>
  | DomainEvent<'flotilla.pool.PoolReplicasRequested', PoolReplicasRequested>;

/** From the optimizer on flotilla.budgets, and from the agent pool on flotilla.pool-events. */
export type ScaleSagaReply =
  | DomainEvent<'flotilla.budget.BudgetReserved', BudgetReserved>
  | DomainEvent<'flotilla.budget.BudgetReservationDenied', BudgetReservationDenied>
  | DomainEvent<'flotilla.budget.BudgetReservationCommitted', BudgetReservationCommitted>
  | DomainEvent<'flotilla.budget.BudgetReservationReleased', BudgetReservationReleased>
  | DomainEvent<'flotilla.pool.PoolReplicasChanged', PoolReplicasChanged>
  | DomainEvent<'flotilla.pool.PoolWorkerReady', PoolWorkerReady>
  | DomainEvent<'flotilla.pool.PoolWorkerFailed', PoolWorkerFailed>
  | DomainEvent<'flotilla.pool.PoolWorkerDrained', PoolWorkerDrained>
  | DomainEvent<'flotilla.pool.PoolReplicasReached', PoolReplicasReached>;

/** Which request of the saga a pool request id names: the forward one, or the rollback. */
export type PoolRequestPurpose = 'scale' | 'rollback';

/** The pool request id of a saga's step: idempotent by saga id, one per purpose. */
export function poolRequestId(sagaId: string, purpose: PoolRequestPurpose): string {
  return `${sagaId}:${purpose}`;
}

/**
 * The saga a reply belongs to, or null for one no saga asked for (an operator's pool request, a
 * replacement worker). Budget replies name it by reservation id (the saga id), pool replies by request id.
 */
export function sagaIdOfReply(reply: ScaleSagaReply): string | null {
  switch (reply.type) {
    case 'flotilla.budget.BudgetReserved':
    case 'flotilla.budget.BudgetReservationDenied':
    case 'flotilla.budget.BudgetReservationCommitted':
    case 'flotilla.budget.BudgetReservationReleased':
      return reply.data.reservationId;
    case 'flotilla.pool.PoolReplicasChanged':
    case 'flotilla.pool.PoolWorkerReady':
    case 'flotilla.pool.PoolWorkerFailed':
    case 'flotilla.pool.PoolWorkerDrained':
    case 'flotilla.pool.PoolReplicasReached': {
      const requestId = reply.data.requestId;
      const match = requestId === null ? null : /^(.+):(scale|rollback)$/.exec(requestId);
      return match ? match[1] : null;
    }
    default:
      return assertNever(reply, 'reply');
  }
}
