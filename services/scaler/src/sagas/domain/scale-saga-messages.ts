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
} from '@flotilla/contracts';
import { assertNever, type DomainEvent } from '@flotilla/domain';

/**
 * What a scale saga exchanges. Its own events (flotilla.scaling.*) are proposed Avro records: each
 * interface below is one record, its doc comments the schema's docs; times are epoch milliseconds,
 * amounts integer micro-units. The optimizer's and the agent pool's messages are the contracts'
 * (the budget guard; the pool replicas protocol).
 */
export type ScaleDirection = 'up' | 'down';

/** The forward steps: a scale-up reserves, provisions, waits for ready and commits; a scale-down drains. */
export type SagaStep = 'reserve' | 'provision' | 'ready' | 'commit' | 'drain';

/** The compensation of a forward step that may have taken effect; they run in reverse order of their steps. */
export type CompensationStep = 'roll_back_replicas' | 'release_budget';

/** Why a saga compensates. `reservation_lost`: the reservation expired (or was released) before it was committed. */
export type FailureCause = 'timed_out' | 'rejected' | 'worker_failed' | 'reservation_lost';

/** done: undone; not_needed: the forward step turned out to have had no effect; abandoned: could not be undone (an alert says so). */
export type CompensationOutcome = 'done' | 'not_needed' | 'abandoned';

// ---- the saga's own events (stream ScaleSaga-<sagaId>, published for the read side) ----

/** A scale action began: one saga per pool at a time. The first step's command goes out with it. */
export interface ScaleSagaStarted {
  readonly sagaId: string;
  readonly agentType: string;
  /** the scaling decision it carries out */
  readonly decisionId: string;
  /** up | down (Avro enum ScaleDirection) */
  readonly direction: ScaleDirection;
  readonly fromReplicas: number;
  readonly toReplicas: number;
  readonly reason: string;
  /** pool:<agentType> */
  readonly budgetId: string;
  /** added replicas × worker-hour price × horizon, rounded up; 0 for a scale-down */
  readonly amountMicros: number;
  readonly workerHourPriceMicros: number;
  readonly horizonMs: number;
  /** when true, a pool without a budget does not scale up */
  readonly requireBudget: boolean;
  /** the saga id when money is reserved; null when nothing is (a scale-down, or nothing to pay) */
  readonly reservationId: string | null;
  /** when the optimizer releases the reservation by itself unless it is settled before; null with no reservation */
  readonly reservationExpiresAt: number | null;
  /** W3C traceparent of the saga's span: every message and timer of the saga continues this trace */
  readonly traceparent: string | null;
  /** when the first step times out */
  readonly deadlineAt: number;
  readonly startedAt: number;
}

/** The optimizer holds the money; provisioning begins. */
export interface ScaleBudgetReserved {
  readonly sagaId: string;
  readonly budgetId: string;
  readonly reservationId: string;
  readonly amountMicros: number;
  /** what the budget has left after it */
  readonly availableMicros: number;
  /** when provisioning times out */
  readonly deadlineAt: number;
  readonly reservedAt: number;
}

/** The pool has no budget and the policy does not require one: it scales up without a reservation. */
export interface ScaleBudgetWaived {
  readonly sagaId: string;
  readonly budgetId: string;
  /** the optimizer's denial */
  readonly reason: string;
  readonly deadlineAt: number;
  readonly waivedAt: number;
}

/** The optimizer denied the money: nothing was provisioned. An AlertRaised goes with it. */
export interface ScaleActionDenied {
  readonly sagaId: string;
  readonly agentType: string;
  readonly decisionId: string;
  readonly fromReplicas: number;
  readonly toReplicas: number;
  readonly budgetId: string;
  readonly reservationId: string;
  readonly amountMicros: number;
  readonly availableMicros: number;
  readonly reason: string;
  readonly deniedAt: number;
}

/** The agent pool accepted the desired replicas: workers start (scale-up) or drain (scale-down) from now on. */
export interface ScaleReplicasAccepted {
  readonly sagaId: string;
  readonly agentType: string;
  /** the pool request: <sagaId>:scale */
  readonly requestId: string;
  readonly previousReplicas: number;
  readonly replicas: number;
  readonly readyReplicas: number;
  /** when waiting for the workers (ready, or drained) times out */
  readonly deadlineAt: number;
  readonly acceptedAt: number;
}

/** One worker started for the saga is ready. Repeated reports of the same worker are not recorded again. */
export interface ScaleWorkerReady {
  readonly sagaId: string;
  readonly agentType: string;
  readonly workerId: string;
  readonly readyReplicas: number;
  readonly readyAt: number;
}

/** The pool runs the desired replicas, all ready: the reservation is committed next. */
export interface ScaleReplicasReached {
  readonly sagaId: string;
  readonly agentType: string;
  readonly replicas: number;
  /** when the commit times out */
  readonly deadlineAt: number;
  readonly reachedAt: number;
}

export interface ScaleSagaCompleted {
  readonly sagaId: string;
  readonly agentType: string;
  readonly decisionId: string;
  readonly direction: ScaleDirection;
  readonly fromReplicas: number;
  readonly toReplicas: number;
  /** null when nothing was reserved */
  readonly reservationId: string | null;
  /** money spent on the budget by the commit; 0 without a reservation */
  readonly committedMicros: number;
  readonly completedAt: number;
}

/** A step failed: the compensations of the steps begun so far run one at a time, in reverse. An AlertRaised goes with it. */
export interface ScaleSagaCompensationStarted {
  readonly sagaId: string;
  readonly agentType: string;
  readonly decisionId: string;
  readonly failedStep: SagaStep;
  readonly cause: FailureCause;
  readonly reason: string;
  /** in the order they run (Avro: array of enum CompensationStep); empty when nothing needs undoing */
  readonly compensations: readonly CompensationStep[];
  /** when the first compensation times out; null without one */
  readonly deadlineAt: number | null;
  readonly startedAt: number;
}

/** A compensation got no answer in time: its command is sent again (idempotent by reservation or request id). */
export interface ScaleCompensationStepRetried {
  readonly sagaId: string;
  readonly step: CompensationStep;
  /** 2, 3, … */
  readonly attempt: number;
  readonly deadlineAt: number;
  readonly retriedAt: number;
}

export interface ScaleCompensationStepCompleted {
  readonly sagaId: string;
  readonly step: CompensationStep;
  readonly outcome: CompensationOutcome;
  readonly detail: string;
  /** when the next compensation times out; null when this was the last */
  readonly deadlineAt: number | null;
  readonly completedAt: number;
}

export interface CompensationRecord {
  readonly step: CompensationStep;
  readonly outcome: CompensationOutcome;
  readonly detail: string;
}

/** The saga failed and every compensation ran (or was abandoned, with an alert). */
export interface ScaleSagaCompensated {
  readonly sagaId: string;
  readonly agentType: string;
  readonly decisionId: string;
  readonly direction: ScaleDirection;
  readonly failedStep: SagaStep;
  readonly cause: FailureCause;
  readonly reason: string;
  readonly fromReplicas: number;
  readonly toReplicas: number;
  /** the pool's desired replicas as the saga leaves them; null when unknown (a rollback abandoned, a drain never accepted) */
  readonly replicas: number | null;
  readonly compensations: readonly CompensationRecord[];
  readonly compensatedAt: number;
}

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

/** To the optimizer on flotilla.budget-commands (keyed by budgetId), and to the agent pool on flotilla.pool-commands (keyed by agentType). */
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
