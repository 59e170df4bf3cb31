import { budgetIdOf, type CostRecorded, type PriceSheet } from '@flotilla/contracts';
import { CommandBatcher, type CommandResult } from '@flotilla/event-store';
import { Counter } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import { attemptCostDecider, attemptCostStreamId, type AttemptCostCommand, type AttemptCostEvent, type AttemptCostState, type AttemptEnded } from './domain/attempt-cost-ledger';
import type { CostLedgerRows } from './ports';
import type { BudgetCommands } from '../budgets/budget-commands';
import type { ExecutionCostCommands } from './execution-cost-commands';

/**
 * The cost ledger: each ended attempt's cost recorded once, as a CostRecorded event, a ledger row and
 * the spend of its budgets in the same transaction (with the report's inbox entry), so a redelivered
 * report, a restart or a second report of the same attempt never counts it twice, and none is lost.
 * The same transaction finalizes the cost of an execution that had ended and now has all its attempts
 * costed (the last cost arriving after the end).
 */
export class CostLedger {
  private readonly batcher: CommandBatcher<AttemptCostCommand, AttemptCostEvent, AttemptCostState>;
  private readonly recorded: Counter;

  constructor(
    platform: Platform,
    readonly sheet: PriceSheet,
    private readonly store: CostLedgerRows,
    private readonly budgets: Pick<BudgetCommands, 'within'>,
    private readonly executionCosts: Pick<ExecutionCostCommands, 'within'>,
  ) {
    this.recorded = new Counter({ name: 'optimizer_cost_recorded_micros_total', help: 'Micro-units of cost recorded, by agent type', labelNames: ['agent_type'], registers: [platform.metrics] });
    this.batcher = new CommandBatcher({
      store: platform.store,
      decider: attemptCostDecider,
      route: platform.route,
      onCommitted: () => platform.relay.notifyCommitted(),
      withinTransaction: async (client, commands) => {
        const recorded = commands.flatMap(({ applied, traceparent }) => applied.map(({ event }) => ({ cost: event.data, traceparent })));
        await this.store.insert(client, recorded.map((r) => r.cost));
        // Then each execution of the batch is decided on once, on its locked row, with these rows in the
        // ledger: one that had ended and now has every attempt costed is final. Execution rows are locked
        // before budget rows, in every transaction that takes both.
        const now = Date.now();
        const byExecution = new Map(recorded.map(({ cost, traceparent }) => [cost.executionId, traceparent]));
        await this.executionCosts.within(
          client,
          [...byExecution].map(([executionId, traceparent]) => ({ executionId, command: { type: 'RecordAttemptCosts' as const, now }, causationId: null, traceparent })),
        );
        // Each cost counts on the budgets of its customer, its pool and the platform in the same commit:
        // never lost, never counted twice, and a threshold is crossed by the cost that reaches it.
        await this.budgets.within(
          client,
          recorded.flatMap(({ cost, traceparent }) =>
            [budgetIdOf({ kind: 'customer', customerId: cost.customerId }), budgetIdOf({ kind: 'pool', agentType: cost.agentType }), budgetIdOf({ kind: 'global' })].map((budgetId) => ({
              budgetId,
              command: { type: 'RecordSpend' as const, costId: cost.costId, amountMicros: cost.breakdown.totalMicros, at: cost.endedAt, now },
              causationId: null,
              traceparent,
            })),
          ),
        );
      },
    });
  }

  async record(ended: AttemptEnded, cause: { readonly eventId: string }): Promise<CommandResult<AttemptCostEvent, AttemptCostState>> {
    const result = await this.batcher.submit({
      streamId: attemptCostStreamId(ended),
      command: { type: 'RecordAttemptCost', ended, sheet: this.sheet, now: Date.now() },
      correlationId: ended.executionId,
      causationId: cause.eventId,
      inbox: { consumer: 'optimizer.costs', eventId: cause.eventId },
    });
    if (result.status === 'applied') for (const event of result.events) this.observe(event.data);
    return result;
  }

  private observe(cost: CostRecorded): void {
    this.recorded.inc({ agent_type: cost.agentType }, cost.breakdown.totalMicros);
  }
}
