import { customerLimit, type AdmissionPolicy } from './admission-policy';
import type { CircuitState } from './customer-circuit';
import { effectivePriority } from './priority';

/** An accepted execution in the admission queue: waiting (`admittedAt` null) or holding a slot. */
export interface QueueEntry {
  readonly executionId: string;
  readonly customerId: string;
  readonly basePriority: number;
  readonly queuedAt: number;
  readonly admittedAt: number | null;
  readonly slaViolated: boolean;
}

export interface AdmissionSnapshot {
  readonly capacity: number;
  readonly entries: readonly QueueEntry[];
  /** Circuit of each customer that has one; absent means closed. */
  readonly circuits: Readonly<Record<string, CircuitState>>;
  /** Customers whose exhausted budget holds their new executions, until when (see budget-hold.ts). */
  readonly budgetHolds?: Readonly<Record<string, number>>;
}

export interface Admission {
  readonly executionId: string;
  readonly customerId: string;
  readonly effectivePriority: number;
  readonly waitedMs: number;
  /** Let through as the single probe of a circuit whose cool-off is over. */
  readonly probe: boolean;
}

export interface AdmissionPlan {
  /** In the order they should be admitted. */
  readonly admit: readonly Admission[];
  readonly reject: ReadonlyArray<{ readonly executionId: string; readonly reason: string }>;
  readonly slaViolations: ReadonlyArray<{ readonly executionId: string; readonly waitedMs: number }>;
}

/**
 * Which waiting executions get the free slots now. Highest effective priority (base + aging) first,
 * ties to the longest waiting; an execution whose customer is at its own cap, whose circuit is open,
 * or whose budget is exhausted and holds, is passed over without blocking the ones behind it.
 */
export function planAdmissions(snapshot: AdmissionSnapshot, policy: AdmissionPolicy, now: number): AdmissionPlan {
  const runningByCustomer = new Map<string, number>();
  let running = 0;
  for (const entry of snapshot.entries) {
    if (entry.admittedAt === null) continue;
    running++;
    runningByCustomer.set(entry.customerId, (runningByCustomer.get(entry.customerId) ?? 0) + 1);
  }
  const waiting = snapshot.entries
    .filter((e) => e.admittedAt === null)
    .map((e) => ({ entry: e, priority: effectivePriority(e.basePriority, e.queuedAt, now, policy.agingPointsPerMinute) }))
    .sort((a, b) => b.priority - a.priority || a.entry.queuedAt - b.entry.queuedAt || a.entry.executionId.localeCompare(b.entry.executionId));

  const admit: Admission[] = [];
  const reject: { executionId: string; reason: string }[] = [];
  const probing = new Set<string>();
  let free = Math.max(0, snapshot.capacity - running);

  for (const { entry, priority } of waiting) {
    // Held, not rejected: the executions run once the budget's period ends or it is raised.
    if ((snapshot.budgetHolds?.[entry.customerId] ?? 0) > now) continue;
    const circuit = snapshot.circuits[entry.customerId];
    const gate = circuitGate(circuit, entry.executionId, probing.has(entry.customerId), now);
    if (gate === 'blocked') {
      if (policy.circuitBreaker.whileOpen === 'reject') {
        reject.push({ executionId: entry.executionId, reason: `the circuit breaker of customer ${entry.customerId} is open after repeated failures; try again later` });
      }
      continue;
    }
    if (free === 0) continue;
    const customerRunning = runningByCustomer.get(entry.customerId) ?? 0;
    if (customerRunning >= customerLimit(policy, entry.customerId)) continue;
    admit.push({ executionId: entry.executionId, customerId: entry.customerId, effectivePriority: priority, waitedMs: Math.max(0, now - entry.queuedAt), probe: gate === 'probe' });
    if (gate === 'probe') probing.add(entry.customerId);
    runningByCustomer.set(entry.customerId, customerRunning + 1);
    free--;
  }

  // Also those admitted already but past the limit when they got their slot (e.g. admitted right
  // after a restart): the wait happened and is reported once.
  const rejected = new Set(reject.map((r) => r.executionId));
  const slaViolations = snapshot.entries
    .filter((e) => !e.slaViolated && !rejected.has(e.executionId))
    .map((e) => ({ executionId: e.executionId, waitedMs: (e.admittedAt ?? now) - e.queuedAt }))
    .filter((v) => v.waitedMs > policy.queueSlaMs);
  return { admit, reject, slaViolations };
}

/** open: nothing passes until the cool-off ends; then one probe; half-open: only that probe. */
function circuitGate(circuit: CircuitState | undefined, executionId: string, probeChosen: boolean, now: number): 'pass' | 'probe' | 'blocked' {
  if (!circuit || circuit.status === 'closed') return 'pass';
  if (circuit.status === 'half_open') return circuit.probeExecutionId === executionId ? 'probe' : 'blocked';
  if (now < circuit.openUntil || probeChosen) return 'blocked';
  return 'probe';
}
