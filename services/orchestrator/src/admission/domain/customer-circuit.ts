import type { AlertRaised, CustomerCircuitClosed, CustomerCircuitHalfOpened, CustomerCircuitOpened, CustomerOutcomeRecorded } from '@flotilla/contracts';
import type { CircuitBreakerPolicy } from './admission-policy';
import { assertNever } from '@flotilla/domain';
import type { ExecutionEvent } from '../../execution/domain/execution';

/**
 * CustomerAdmission: one customer's circuit breaker. Closed counts consecutive failed executions;
 * at the threshold it opens for a cool-off; after the cool-off admission lets exactly one probe
 * through (half-open); the probe's success closes it, its failure opens it again.
 */
export type CircuitState =
  | { readonly status: 'closed'; readonly consecutiveFailures: number }
  | { readonly status: 'open'; readonly consecutiveFailures: number; readonly openUntil: number }
  | { readonly status: 'half_open'; readonly consecutiveFailures: number; readonly probeExecutionId: string };

export const initialCircuitState: CircuitState = { status: 'closed', consecutiveFailures: 0 };

export type CircuitEvent =
  | { readonly type: 'flotilla.admission.CustomerOutcomeRecorded'; readonly data: CustomerOutcomeRecorded }
  | { readonly type: 'flotilla.admission.CustomerCircuitOpened'; readonly data: CustomerCircuitOpened }
  | { readonly type: 'flotilla.admission.CustomerCircuitHalfOpened'; readonly data: CustomerCircuitHalfOpened }
  | { readonly type: 'flotilla.admission.CustomerCircuitClosed'; readonly data: CustomerCircuitClosed }
  | { readonly type: 'flotilla.alert.AlertRaised'; readonly data: AlertRaised };

/** `void`: the execution ended without a verdict on the customer (cancelled, or rejected by admission). */
export type ExecutionVerdict = 'succeeded' | 'failed' | 'void';

export type CircuitCommand =
  | {
      readonly type: 'RecordExecutionOutcome';
      readonly customerId: string;
      readonly executionId: string;
      readonly verdict: ExecutionVerdict;
      readonly policy: CircuitBreakerPolicy;
      readonly now: number;
    }
  | { readonly type: 'AdmitProbe'; readonly customerId: string; readonly executionId: string; readonly now: number };

export function customerCircuitStreamId(customerId: string): string {
  return `CustomerAdmission-${customerId}`;
}

export function decideCircuit(command: CircuitCommand, state: CircuitState): CircuitEvent[] {
  switch (command.type) {
    case 'RecordExecutionOutcome':
      return recordOutcome(command, state);
    case 'AdmitProbe':
      if (state.status === 'half_open' && state.probeExecutionId === command.executionId) return [];
      if (state.status !== 'open' || command.now < state.openUntil) return [];
      return [
        { type: 'flotilla.admission.CustomerCircuitHalfOpened', data: { customerId: command.customerId, probeExecutionId: command.executionId, halfOpenedAt: command.now } },
        alert(command.customerId, 'circuit_half_opened', 'info', command.executionId, `circuit of customer ${command.customerId} is half-open: execution ${command.executionId} is the probe`, command.now),
      ];
    default:
      return assertNever(command);
  }
}

function recordOutcome(command: Extract<CircuitCommand, { type: 'RecordExecutionOutcome' }>, state: CircuitState): CircuitEvent[] {
  const { customerId, executionId, verdict, policy, now } = command;
  const isProbe = state.status === 'half_open' && state.probeExecutionId === executionId;
  if (verdict === 'void') {
    // A probe that was cancelled says nothing about the customer: re-open with the cool-off already
    // over, so the next queued execution becomes the probe.
    if (!isProbe) return [];
    return [opened(customerId, state.consecutiveFailures, `probe ${executionId} ended without a verdict; the next execution will probe`, policy, now, now)];
  }
  const consecutiveFailures = verdict === 'failed' ? state.consecutiveFailures + 1 : 0;
  const events: CircuitEvent[] = [
    { type: 'flotilla.admission.CustomerOutcomeRecorded', data: { customerId, executionId, succeeded: verdict === 'succeeded', consecutiveFailures, recordedAt: now } },
  ];
  if (isProbe) {
    if (verdict === 'succeeded') {
      events.push(
        { type: 'flotilla.admission.CustomerCircuitClosed', data: { customerId, probeExecutionId: executionId, closedAt: now } },
        alert(customerId, 'circuit_closed', 'info', executionId, `circuit of customer ${customerId} closed: probe ${executionId} succeeded`, now),
      );
    } else {
      events.push(opened(customerId, consecutiveFailures, `probe ${executionId} failed`, policy, now, now + policy.coolOffMs));
      events.push(alert(customerId, 'circuit_opened', 'critical', executionId, `circuit of customer ${customerId} opened again: probe ${executionId} failed`, now));
    }
    return events;
  }
  // Executions admitted before the circuit opened still report; they are counted but cannot close
  // or re-open it — only the probe decides.
  if (state.status === 'closed' && verdict === 'failed' && consecutiveFailures >= policy.failureThreshold) {
    const reason = `${consecutiveFailures} consecutive failed executions (threshold ${policy.failureThreshold})`;
    events.push(opened(customerId, consecutiveFailures, reason, policy, now, now + policy.coolOffMs));
    events.push(alert(customerId, 'circuit_opened', 'critical', executionId, `circuit of customer ${customerId} opened for ${Math.round(policy.coolOffMs / 1000)} s: ${reason}`, now));
  }
  return events;
}

function opened(customerId: string, consecutiveFailures: number, reason: string, policy: CircuitBreakerPolicy, now: number, openUntil: number): CircuitEvent {
  return { type: 'flotilla.admission.CustomerCircuitOpened', data: { customerId, consecutiveFailures, reason, whileOpen: policy.whileOpen, openUntil, openedAt: now } };
}

function alert(customerId: string, kind: string, severity: 'info' | 'warning' | 'critical', executionId: string, message: string, now: number): CircuitEvent {
  return {
    type: 'flotilla.alert.AlertRaised',
    data: { alertId: `${kind}:${customerId}:${now}`, severity, kind, source: 'orchestrator', customerId, executionId, message, raisedAt: now },
  };
}

export function evolveCircuit(state: CircuitState, event: CircuitEvent): CircuitState {
  switch (event.type) {
    case 'flotilla.admission.CustomerOutcomeRecorded':
      return { ...state, consecutiveFailures: event.data.consecutiveFailures };
    case 'flotilla.admission.CustomerCircuitOpened':
      return { status: 'open', consecutiveFailures: event.data.consecutiveFailures, openUntil: event.data.openUntil };
    case 'flotilla.admission.CustomerCircuitHalfOpened':
      return { status: 'half_open', consecutiveFailures: state.consecutiveFailures, probeExecutionId: event.data.probeExecutionId };
    case 'flotilla.admission.CustomerCircuitClosed':
      return { status: 'closed', consecutiveFailures: 0 };
    case 'flotilla.alert.AlertRaised':
      return state;
    default:
      return assertNever(event);
  }
}


export const customerCircuitDecider = { initialState: initialCircuitState, decide: decideCircuit, evolve: evolveCircuit };

/**
 * What an execution's ending says about its customer, or null for an event that ends nothing (or a
 * rejection of a request that named no customer).
 */
export function executionOutcome(event: ExecutionEvent): { readonly customerId: string; readonly executionId: string; readonly verdict: ExecutionVerdict } | null {
  switch (event.type) {
    case 'flotilla.execution.ExecutionCompleted':
      return { customerId: event.data.customerId, executionId: event.data.executionId, verdict: 'succeeded' };
    case 'flotilla.execution.ExecutionFailed':
      return { customerId: event.data.customerId, executionId: event.data.executionId, verdict: 'failed' };
    case 'flotilla.execution.ExecutionCancelled':
      return { customerId: event.data.customerId, executionId: event.data.executionId, verdict: 'void' };
    case 'flotilla.execution.ExecutionRejected':
      return event.data.customerId ? { customerId: event.data.customerId, executionId: event.data.executionId, verdict: 'void' } : null;
    default:
      return null;
  }
}
