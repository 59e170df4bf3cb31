import type { ExecutionCostFinalized } from '@flotilla/contracts';
import { assertNever, type Decider, type DomainEvent } from '@flotilla/domain';

/**
 * An execution's cost becomes final once the execution ended and every attempt it started was
 * costed; or, when some attempt never reports (its worker died), once a grace period after the end
 * ran out, saying how many are missing. Final once: ExecutionCostFinalized is published exactly once.
 *
 *   Open ──(end, an attempt not costed yet)──▶ Ended ──(its last cost | the grace period ran out)──▶ Final
 *     └──────────(end, every attempt costed)─────────────────────────────────────────────────────────┘
 *
 * The costs themselves are the ledger's (one row per attempt, written with its CostRecorded): each
 * command carries what the ledger holds for the execution when it is decided (`costed`), read in the
 * same transaction under the execution's lock, so the total is the ledger's by construction and a
 * cost and the end, arriving together from two topics, cannot both miss each other.
 */
export type ExecutionOutcome = 'completed' | 'failed' | 'cancelled';

/** How an execution ended, from its ExecutionCompleted, ExecutionFailed or ExecutionCancelled. */
export interface ExecutionEnd {
  readonly executionId: string;
  readonly customerId: string;
  readonly outcome: ExecutionOutcome;
  readonly endedAt: number;
  /**
   * The attempts whose start the orchestrator recorded (attempt keys, see `attemptKey`): each reports
   * an outcome unless its worker died for good. null when the end event predates the list: then
   * only the grace period can say that the costs are complete.
   */
  readonly startedAttempts: readonly string[] | null;
}

/** What the ledger holds for an execution: the attempts costed (attempt keys) and the sum of their totals. */
export interface CostedAttempts {
  readonly attempts: readonly string[];
  readonly totalMicros: number;
}

export const NOTHING_COSTED: CostedAttempts = { attempts: [], totalMicros: 0 };

export type ExecutionCostCommand =
  | { readonly type: 'RecordExecutionEnd'; readonly end: ExecutionEnd; readonly costed: CostedAttempts; readonly currency: string; readonly graceMs: number; readonly now: number }
  /** Costs of the execution were just recorded in the ledger. */
  | { readonly type: 'RecordAttemptCosts'; readonly costed: CostedAttempts; readonly now: number }
  /** The grace period after the end ran out (the durable timer fired). */
  | { readonly type: 'ExpireGrace'; readonly costed: CostedAttempts; readonly now: number };

interface AwaitingCosts {
  readonly end: ExecutionEnd;
  readonly currency: string;
  /** When the costs still missing are given up on. */
  readonly graceUntil: number;
}

/**
 * ExecutionEndRecorded is never stored nor published: it moves the execution's row to Ended (and
 * starts the grace timer) while costs are still to come, so that evolve alone explains the state.
 */
export type ExecutionCostEvent =
  | DomainEvent<'flotilla.cost.ExecutionEndRecorded', AwaitingCosts & { readonly recordedAt: number }>
  | DomainEvent<'flotilla.cost.ExecutionCostFinalized', ExecutionCostFinalized>;

export type ExecutionCostState =
  | { readonly status: 'Open' }
  | ({ readonly status: 'Ended' } & AwaitingCosts)
  | { readonly status: 'Final'; readonly final: ExecutionCostFinalized };

/** Events kept in the execution cost's stream and published; the others only move its row. */
export function isStoredExecutionCostEvent(event: ExecutionCostEvent): boolean {
  return event.type === 'flotilla.cost.ExecutionCostFinalized';
}

/** An attempt as the ledger and the end event both name it. */
export function attemptKey(attempt: { readonly taskId: string; readonly attempt: number }): string {
  return `${attempt.taskId}/${attempt.attempt}`;
}

export function executionCostStreamId(executionId: string): string {
  return `ExecutionCost-${executionId}`;
}

/** The started attempts the ledger has no cost for. */
function missing(end: ExecutionEnd, costed: CostedAttempts): number {
  if (end.startedAttempts === null) return 0;
  const have = new Set(costed.attempts);
  return new Set(end.startedAttempts.filter((a) => !have.has(a))).size;
}

function finalized(end: ExecutionEnd, currency: string, costed: CostedAttempts, missingAttempts: number, now: number): ExecutionCostEvent {
  return {
    type: 'flotilla.cost.ExecutionCostFinalized',
    data: {
      executionId: end.executionId,
      customerId: end.customerId,
      outcome: end.outcome,
      attempts: costed.attempts.length,
      missingAttempts,
      totalMicros: costed.totalMicros,
      currency,
      endedAt: end.endedAt,
      finalizedAt: now,
    },
  };
}

function decide(command: ExecutionCostCommand, state: ExecutionCostState): ExecutionCostEvent[] {
  switch (command.type) {
    case 'RecordExecutionEnd': {
      // An execution ends once: a redelivered end event (the inbox did not see it) changes nothing.
      if (state.status !== 'Open') return [];
      const { end, costed, currency, now } = command;
      // Every attempt it started was costed already (or it started none): final at once.
      if (end.startedAttempts !== null && missing(end, costed) === 0) return [finalized(end, currency, costed, 0, now)];
      return [{ type: 'flotilla.cost.ExecutionEndRecorded', data: { end, currency, graceUntil: now + command.graceMs, recordedAt: now } }];
    }
    case 'RecordAttemptCosts': {
      // Before the end, costs only accumulate in the ledger; after the finalization, a late report of
      // an attempt the end did not list stays in the ledger but cannot change what was published.
      if (state.status !== 'Ended' || state.end.startedAttempts === null) return [];
      return missing(state.end, command.costed) === 0 ? [finalized(state.end, state.currency, command.costed, 0, command.now)] : [];
    }
    case 'ExpireGrace':
      // A timer that fires after the last cost finalized it finds nothing to do.
      return state.status === 'Ended' ? [finalized(state.end, state.currency, command.costed, missing(state.end, command.costed), command.now)] : [];
    default:
      return assertNever(command);
  }
}

function evolve(state: ExecutionCostState, event: ExecutionCostEvent): ExecutionCostState {
  switch (event.type) {
    case 'flotilla.cost.ExecutionEndRecorded': {
      const { end, currency, graceUntil } = event.data;
      return state.status === 'Open' ? { status: 'Ended', end, currency, graceUntil } : state;
    }
    case 'flotilla.cost.ExecutionCostFinalized':
      return { status: 'Final', final: event.data };
    default:
      return assertNever(event, 'execution cost event');
  }
}

export const executionCostDecider: Decider<ExecutionCostCommand, ExecutionCostEvent, ExecutionCostState> = { initialState: { status: 'Open' }, decide, evolve };
