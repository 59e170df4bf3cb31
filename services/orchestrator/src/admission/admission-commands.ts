import { handleCommand, type CommandResult } from '@flotilla/event-store';
import { Counter } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import { ADMISSION_CONTROL_STREAM, capacityDecider, type CapacityEvent, type CapacityState, type ChangeCapacity } from './domain/capacity';
import { customerCircuitDecider, customerCircuitStreamId, type CircuitCommand, type CircuitEvent, type CircuitState } from './domain/customer-circuit';
import type { AdmissionStore } from './ports';

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

  async circuit(command: CircuitCommand, inboxId?: string): Promise<CommandResult<CircuitEvent, CircuitState>> {
    const result = await handleCommand({
      store: this.platform.store,
      decider: customerCircuitDecider,
      streamId: customerCircuitStreamId(command.customerId),
      command,
      route: this.platform.route,
      correlationId: command.executionId,
      causationId: inboxId ?? null,
      // Many executions of one customer can end at the same moment, each a command on this one stream.
      maxConflictRetries: 50,
      inbox: inboxId ? { consumer: 'orchestrator.admission', eventId: inboxId } : undefined,
      withinTransaction: async (client, applied) => {
        const last = applied.at(-1);
        if (last) await this.store.saveCircuit(client, command.customerId, last.stateAfter);
      },
    });
    if (result.status === 'applied') {
      for (const event of result.events) {
        if (event.type === 'flotilla.admission.CustomerCircuitOpened') this.transitions.inc({ to: 'open' });
        if (event.type === 'flotilla.admission.CustomerCircuitHalfOpened') this.transitions.inc({ to: 'half_open' });
        if (event.type === 'flotilla.admission.CustomerCircuitClosed') this.transitions.inc({ to: 'closed' });
      }
      if (result.events.length > 0) this.onChange();
    }
    return result;
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
