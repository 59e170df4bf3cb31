import { pricesFor, type CostRecorded, type PriceSheet } from '@flotilla/contracts';
import { assertNever, type Decider, type DomainEvent } from '@flotilla/domain';
import { attemptCost, reportedUnits, type MeasuredUsage } from './attempt-cost';

/** How an attempt ended, as its TaskCompleted or TaskFailed says: what its cost is computed from. */
export interface AttemptEnded {
  readonly executionId: string;
  readonly customerId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly agentType: string;
  readonly outcome: 'completed' | 'failed';
  readonly usage: MeasuredUsage;
  readonly output: Readonly<Record<string, string>>;
  readonly endedAt: number;
}

export type AttemptCostCommand = { readonly type: 'RecordAttemptCost'; readonly ended: AttemptEnded; readonly sheet: PriceSheet; readonly now: number };
export type AttemptCostEvent = DomainEvent<'flotilla.cost.CostRecorded', CostRecorded>;
export type AttemptCostState = { readonly status: 'Unrecorded' } | { readonly status: 'Recorded'; readonly cost: CostRecorded };

/** One stream per attempt: its cost is recorded once, whichever report of it comes first or again. */
export function attemptCostStreamId(ended: Pick<AttemptEnded, 'executionId' | 'taskId' | 'attempt'>): string {
  return `AttemptCost-${costIdOf(ended)}`;
}

export function costIdOf(ended: Pick<AttemptEnded, 'executionId' | 'taskId' | 'attempt'>): string {
  return `${ended.executionId}/${ended.taskId}/${ended.attempt}`;
}

function decide(command: AttemptCostCommand, state: AttemptCostState): AttemptCostEvent[] {
  switch (command.type) {
    case 'RecordAttemptCost': {
      // An attempt ends once; a second report of it (a redelivery the inbox did not see, or a late
      // failure after a completion) is not a second cost.
      if (state.status === 'Recorded') return [];
      const { ended, sheet } = command;
      const prices = pricesFor(sheet, ended.agentType);
      const breakdown = attemptCost(ended.usage, prices, reportedUnits(ended.output, prices));
      return [
        {
          type: 'flotilla.cost.CostRecorded',
          data: {
            costId: costIdOf(ended),
            executionId: ended.executionId,
            customerId: ended.customerId,
            taskId: ended.taskId,
            attempt: ended.attempt,
            agentType: ended.agentType,
            outcome: ended.outcome,
            currency: sheet.currency,
            breakdown,
            usage: ended.usage,
            endedAt: ended.endedAt,
            recordedAt: command.now,
          },
        },
      ];
    }
    default:
      return assertNever(command.type);
  }
}

function evolve(state: AttemptCostState, event: AttemptCostEvent): AttemptCostState {
  switch (event.type) {
    case 'flotilla.cost.CostRecorded':
      return { status: 'Recorded', cost: event.data };
    default:
      return assertNever(event.type, 'attempt cost event');
  }
}

export const attemptCostDecider: Decider<AttemptCostCommand, AttemptCostEvent, AttemptCostState> = { initialState: { status: 'Unrecorded' }, decide, evolve };
