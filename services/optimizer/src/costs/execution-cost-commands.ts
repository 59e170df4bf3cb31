import { assertNever } from '@flotilla/domain';
import type { OutboxMessage, Transaction } from '@flotilla/event-store';
import { DurableTimers, type NewEvent, type TimerChange } from '@flotilla/event-store';
import { currentTraceContext } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import { v7 as uuidv7 } from 'uuid';
import {
  executionCostDecider,
  executionCostStreamId,
  isStoredExecutionCostEvent,
  NOTHING_COSTED,
  type ExecutionCostCommand,
  type ExecutionCostEvent,
  type ExecutionCostState,
  type ExecutionEnd,
} from './domain/execution-cost';
import type { ExecutionCostRows, StoredExecutionCost } from './ports';

/** What a grace timer carries: the execution whose missing costs are given up on when it fires. */
export interface ExecutionCostGrace {
  readonly kind: 'execution_cost_grace';
  readonly executionId: string;
}

export function isExecutionCostGrace(payload: unknown): payload is ExecutionCostGrace {
  return (payload as { kind?: unknown } | null)?.kind === 'execution_cost_grace';
}

export function graceTimerId(executionId: string): string {
  return `execution-cost-grace:${executionId}`;
}

/** A command before the ledger was read: what the ledger holds is filled in under the execution's lock. */
type Distribute<C> = C extends unknown ? Omit<C, 'costed'> : never;
export type PendingExecutionCostCommand = Distribute<ExecutionCostCommand>;

export interface ExecutionCostChange {
  readonly executionId: string;
  readonly command: PendingExecutionCostCommand;
  readonly causationId: string | null;
  readonly traceparent: string | null;
}

/**
 * The one way to change an execution's cost state. Like a budget, its state is its row, locked for the
 * transaction that decides on it: the ledger's transaction after it recorded costs of the execution,
 * the end event's, or the grace timer's. Whichever commits second sees the other's rows, so the last
 * cost arriving after the end finalizes as surely as an end arriving after the last cost; only
 * ExecutionCostFinalized is appended to the execution cost's stream and published (flotilla.costs).
 * The grace timer is scheduled in the transaction that records the end and cancelled by the one that
 * finalizes.
 */
export class ExecutionCostCommands {
  readonly timers: DurableTimers<ExecutionCostGrace>;

  constructor(
    private readonly platform: Platform,
    private readonly store: ExecutionCostRows,
    private readonly options: {
      /** The ledger's currency, which every cost of it is in. */
      readonly currency: string;
      /** How long after recording an ending the costs still missing are waited for. */
      readonly graceMs: number;
    },
  ) {
    this.timers = new DurableTimers<ExecutionCostGrace>(platform.pool, platform.store.schema);
  }

  /**
   * Applies `changes` in the caller's transaction, in order; the state of each execution after them.
   * The caller's own ledger rows, if any, must be written before: they are part of what is read.
   */
  async within(client: Transaction, changes: readonly ExecutionCostChange[]): Promise<Map<string, ExecutionCostState>> {
    const after = new Map<string, ExecutionCostState>();
    if (changes.length === 0) return after;
    const ids = changes.map((c) => c.executionId);
    await this.store.ensure(client, ids);
    const current = new Map<string, StoredExecutionCost>(await this.store.lock(client, ids));
    const initial = (): StoredExecutionCost => ({ state: executionCostDecider.initialState, version: 0 });
    // The ledger is read, once for all, only where the decision can depend on it: an execution not
    // ended yet is not finalized by a cost, and a final one by nothing.
    const reading = changes.filter(({ executionId, command }) => needsLedger(command, (current.get(executionId) ?? initial()).state)).map((c) => c.executionId);
    const costed = await this.store.costed(client, reading);
    const changed = new Set<string>();
    const appends: Array<{ streamId: string; expectedVersion: number; events: NewEvent[] }> = [];
    const outbox: OutboxMessage[] = [];
    const timers: TimerChange<ExecutionCostGrace>[] = [];
    for (const { executionId, command: pending, causationId, traceparent } of changes) {
      const row = current.get(executionId) ?? initial();
      const command = { ...pending, costed: costed.get(executionId) ?? NOTHING_COSTED } as ExecutionCostCommand;
      const decided = executionCostDecider.decide(command, row.state);
      const state = decided.reduce(executionCostDecider.evolve, row.state);
      after.set(executionId, state);
      if (decided.length === 0) continue;
      const streamId = executionCostStreamId(executionId);
      const stored = decided.filter(isStoredExecutionCostEvent);
      const events = stored.map((event): NewEvent => ({ eventId: uuidv7(), eventType: event.type, data: event.data, metadata: { occurredAt: command.now, correlationId: executionId, causationId, traceparent, tracestate: null } }));
      appends.push({ streamId, expectedVersion: row.version, events });
      events.forEach((event, i) => {
        for (const destination of this.platform.route(stored[i])) {
          outbox.push({ ...destination, eventId: event.eventId, eventType: event.eventType, payload: event.data, metadata: { ...event.metadata, aggregateId: streamId, aggregateVersion: row.version + i + 1 } });
        }
      });
      timers.push(...decided.map((event) => graceTimerChange(executionId, event, traceparent)));
      current.set(executionId, { state, version: row.version + events.length });
      changed.add(executionId);
    }
    await this.platform.store.appendToStreams(client, appends);
    await this.platform.store.enqueue(client, outbox);
    await this.timers.applyChanges(client, timers);
    await this.store.save(client, [...changed].map((executionId) => ({ executionId, ...current.get(executionId)! })));
    return after;
  }

  /** An execution ended (its ExecutionCompleted, ExecutionFailed or ExecutionCancelled): applied once per event. */
  recordEnd(end: ExecutionEnd, cause: { readonly eventId: string }): Promise<ExecutionCostState | null> {
    const command: PendingExecutionCostCommand = { type: 'RecordExecutionEnd', end, currency: this.options.currency, graceMs: this.options.graceMs, now: Date.now() };
    return this.apply(end.executionId, command, { causationId: cause.eventId, inboxId: cause.eventId });
  }

  /** The grace timer of an execution fired: applied once per firing (`inboxId`, see timerFiringId). */
  async expireGrace(executionId: string, cause: { readonly inboxId: string }): Promise<ExecutionCostState | null> {
    const after = await this.apply(executionId, { type: 'ExpireGrace', now: Date.now() }, { causationId: null, inboxId: cause.inboxId });
    if (after?.status === 'Final' && after.final.missingAttempts > 0) {
      this.platform.logger.warn({ executionId, missingAttempts: after.final.missingAttempts }, 'execution cost finalized without every attempt: some never reported within the grace period');
    }
    return after;
  }

  /**
   * One command in a transaction of its own, applied once per `inboxId` however often it is delivered
   * (an end event, a timer firing): null when it had been already. The execution's state after it.
   */
  private async apply(executionId: string, command: PendingExecutionCostCommand, cause: { readonly causationId: string | null; readonly inboxId: string }): Promise<ExecutionCostState | null> {
    const { traceparent } = currentTraceContext();
    const after = await this.platform.store.withTransaction(async (client) => {
      if (!(await this.platform.store.recordInbox(client, 'optimizer.execution-costs', cause.inboxId))) return null;
      return (await this.within(client, [{ executionId, command, causationId: cause.causationId, traceparent }])).get(executionId)!;
    });
    this.platform.relay.notifyCommitted();
    return after;
  }
}

/** Whether deciding `command` on `state` can depend on what the ledger holds (see the decider). */
function needsLedger(command: PendingExecutionCostCommand, state: ExecutionCostState): boolean {
  switch (command.type) {
    case 'RecordExecutionEnd':
      return state.status === 'Open';
    case 'RecordAttemptCosts':
    case 'ExpireGrace':
      return state.status === 'Ended';
    default:
      return assertNever(command, 'execution cost command');
  }
}

/** The end, while costs are awaited, starts the grace timer; the finalization ends it. */
function graceTimerChange(executionId: string, event: ExecutionCostEvent, traceparent: string | null): TimerChange<ExecutionCostGrace> {
  const streamId = executionCostStreamId(executionId);
  const timerId = graceTimerId(executionId);
  switch (event.type) {
    case 'flotilla.cost.ExecutionEndRecorded':
      return { streamId, cancelAll: false, cancel: [], schedule: [{ timerId, streamId, dueAt: event.data.graceUntil, payload: { kind: 'execution_cost_grace', executionId } }], traceparent };
    case 'flotilla.cost.ExecutionCostFinalized':
      return { streamId, cancelAll: false, cancel: [timerId], schedule: [], traceparent };
    default:
      return assertNever(event, 'execution cost event');
  }
}
