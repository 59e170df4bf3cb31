/** How admission behaves; read from the orchestrator's settings file (section `admission`). */
export interface AdmissionPolicy {
  /** Concurrently running executions when no AdmissionCapacityChanged has set another value. */
  readonly capacity: number;
  /** Running executions one customer may have at once, unless `customerLimits` says otherwise. */
  readonly perCustomerLimit: number;
  readonly customerLimits: Readonly<Record<string, number>>;
  /** Priority points a waiting execution gains per minute of waiting, so nothing starves. */
  readonly agingPointsPerMinute: number;
  /** Longest acceptable wait in the queue before an SlaViolated event and an alert. */
  readonly queueSlaMs: number;
  readonly circuitBreaker: CircuitBreakerPolicy;
}

export interface CircuitBreakerPolicy {
  /** Consecutive failed executions of one customer that open its circuit. */
  readonly failureThreshold: number;
  /** How long the circuit stays open before one probe execution is let through. */
  readonly coolOffMs: number;
  /** What happens to the customer's queued executions while the circuit is open: wait, or be rejected. */
  readonly whileOpen: 'hold' | 'reject';
}

export const DEFAULT_ADMISSION_POLICY: AdmissionPolicy = {
  capacity: 5,
  perCustomerLimit: 3,
  customerLimits: {},
  agingPointsPerMinute: 2,
  queueSlaMs: 5 * 60_000,
  circuitBreaker: { failureThreshold: 5, coolOffMs: 60_000, whileOpen: 'hold' },
};

export function customerLimit(policy: AdmissionPolicy, customerId: string): number {
  return policy.customerLimits[customerId] ?? policy.perCustomerLimit;
}
