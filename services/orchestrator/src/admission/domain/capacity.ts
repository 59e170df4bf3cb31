import type { AdmissionCapacityChanged } from '@flotilla/contracts';

/** AdmissionControl: the one global stream holding the runtime capacity of concurrent executions. */
export interface CapacityState {
  /** null until the first change: the configured default applies. */
  readonly capacity: number | null;
}

export type CapacityEvent = { readonly type: 'flotilla.admission.AdmissionCapacityChanged'; readonly data: AdmissionCapacityChanged };

export interface ChangeCapacity {
  readonly type: 'ChangeCapacity';
  readonly requestId: string;
  readonly capacity: number;
  readonly reason: string;
  readonly defaultCapacity: number;
  readonly now: number;
}

export const ADMISSION_CONTROL_STREAM = 'AdmissionControl-global';
export const MAX_CAPACITY = 10_000;

/** Why a requested capacity cannot be applied, or null when it can. */
export function capacityProblem(capacity: number): string | null {
  if (!Number.isInteger(capacity)) return `capacity must be a whole number, got ${capacity}`;
  if (capacity < 1 || capacity > MAX_CAPACITY) return `capacity must be between 1 and ${MAX_CAPACITY}, got ${capacity}`;
  return null;
}

export function decideCapacity(command: ChangeCapacity, state: CapacityState): CapacityEvent[] {
  if (capacityProblem(command.capacity) !== null) return [];
  // Recorded even when unchanged: the requester gets its answer, and the history shows who asked.
  return [
    {
      type: 'flotilla.admission.AdmissionCapacityChanged',
      data: { requestId: command.requestId, previousCapacity: state.capacity ?? command.defaultCapacity, capacity: command.capacity, reason: command.reason, changedAt: command.now },
    },
  ];
}

export function evolveCapacity(_state: CapacityState, event: CapacityEvent): CapacityState {
  return { capacity: event.data.capacity };
}

export const capacityDecider = { initialState: { capacity: null } as CapacityState, decide: decideCapacity, evolve: evolveCapacity };
