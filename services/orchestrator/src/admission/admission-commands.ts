import { handleCommand, type CommandResult, type NewEvent, type OutboxMessage, type Transaction } from '@flotilla/event-store';
import { Counter, currentTraceContext } from '@flotilla/observability';
import { v7 as uuidv7 } from 'uuid';
import type { Platform } from '@flotilla/service-kit';
import { ADMISSION_CONTROL_STREAM, capacityDecider, type CapacityEvent, type CapacityState, type ChangeCapacity } from './domain/capacity';
import { customerCircuitDecider, customerCircuitStreamId, type CircuitCommand, type CircuitEvent, type CircuitState } from './domain/customer-circuit';
import type { BudgetHoldChange } from './domain/budget-hold';
import type { AdmissionStore, StoredCircuit } from './ports';

/**
 * Commands to the two admission aggregates: a customer's circuit breaker (CustomerAdmission) and the
 * global capacity (AdmissionControl). Their state rows, read by the admitter, commit with their events.
 */
export class AdmissionCommands {
  private readonly transitions: Counter;

  constructor(
    private readonly platform: Platform,
    private readonly store: AdmissionStore,
    private readonly onChange: () => void,
  ) {
    this.transitions = new Counter({ name: 'admission_circuit_transitions_total', help: 'Customer circuit breaker transitions', labelNames: ['to'], registers: [platform.metrics] });
  }

  /**
   * Circuit commands in the caller's transaction (the one that ends the executions they count, or
   * the admitter's probe): the circuits' rows are locked, decided on in order, and saved; only
   * transitions are appended to the CustomerAdmission streams and published. An outcome that changes
   * no status is the row's failure count alone: as events, every execution would grow its customer's
   * stream by one, and nothing reads them.
   */
  async circuitsWithin(
    client: Transaction,
    commands: ReadonlyArray<{ readonly command: CircuitCommand; readonly causationId: string | null; readonly traceparent: string | null }>,
  ): Promise<Map<string, CircuitState>> {
    const after = new Map<string, CircuitState>();
    if (commands.length === 0) return after;
    const stored = await this.store.lockCircuits(client, commands.map((c) => c.command.customerId));
    const changed = new Map<string, StoredCircuit>();
    const appends: Array<{ streamId: string; expectedVersion: number; events: NewEvent[] }> = [];
    const outbox: OutboxMessage[] = [];
    for (const { command, causationId, traceparent } of commands) {
      const circuit = changed.get(command.customerId) ?? stored.get(command.customerId)!;
      const decided = customerCircuitDecider.decide(command, circuit.state);
      const state = decided.reduce(customerCircuitDecider.evolve, circuit.state);
      const transitions: NewEvent[] = decided
        .filter((event) => event.type !== 'flotilla.admission.CustomerOutcomeRecorded')
        .map((event) => ({ eventId: uuidv7(), eventType: event.type, data: event.data, metadata: { occurredAt: command.now, correlationId: command.executionId, causationId, traceparent, tracestate: null } }));
      const streamId = customerCircuitStreamId(command.customerId);
      appends.push({ streamId, expectedVersion: circuit.version, events: transitions });
      transitions.forEach((stored, i) => {
        for (const destination of this.platform.route({ type: stored.eventType, data: stored.data } as CircuitEvent)) {
          outbox.push({ ...destination, eventId: stored.eventId, eventType: stored.eventType, payload: stored.data, metadata: { ...stored.metadata, aggregateId: streamId, aggregateVersion: circuit.version + i + 1 } });
        }
        if (stored.eventType === 'flotilla.admission.CustomerCircuitOpened') this.transitions.inc({ to: 'open' });
        if (stored.eventType === 'flotilla.admission.CustomerCircuitHalfOpened') this.transitions.inc({ to: 'half_open' });
        if (stored.eventType === 'flotilla.admission.CustomerCircuitClosed') this.transitions.inc({ to: 'closed' });
      });
      if (transitions.length > 0 || !sameCircuit(state, circuit.state)) changed.set(command.customerId, { state, version: circuit.version + transitions.length });
      after.set(command.customerId, state);
    }
    await this.platform.store.appendToStreams(client, appends);
    await this.platform.store.enqueue(client, outbox);
    await this.store.saveCircuits(client, [...changed].map(([customerId, circuit]) => ({ customerId, ...circuit })));
    return after;
  }

  /** One circuit command in a transaction of its own (the admitter's probe); the circuit's state after it. */
  async circuit(command: CircuitCommand): Promise<CircuitState> {
    const { traceparent } = currentTraceContext();
    const after = await this.platform.store.withTransaction((client) => this.circuitsWithin(client, [{ command, causationId: null, traceparent }]));
    this.onChange();
    return after.get(command.customerId)!;
  }

  /** A customer's budget holds its new executions until a time, or no longer (the optimizer's budget events). */
  async applyBudgetHold(change: BudgetHoldChange): Promise<void> {
    await this.store.applyBudgetHold(change);
    // A lifted hold lets the customer's queued executions in at the next round: start it now.
    this.onChange();
  }

  async changeCapacity(command: ChangeCapacity, inboxId?: string): Promise<CommandResult<CapacityEvent, CapacityState>> {
    const result = await handleCommand({
      store: this.platform.store,
      decider: capacityDecider,
      streamId: ADMISSION_CONTROL_STREAM,
      command,
      route: this.platform.route,
      correlationId: command.requestId,
      causationId: inboxId ?? null,
      inbox: inboxId ? { consumer: 'orchestrator.admission', eventId: inboxId } : undefined,
      withinTransaction: async (client, applied) => {
        for (const { event } of applied) await this.store.saveCapacity(client, event.data.capacity, event.data.changedAt);
      },
    });
    if (result.status === 'applied' && result.events.length > 0) this.onChange();
    return result;
  }
}

function sameCircuit(a: CircuitState, b: CircuitState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
