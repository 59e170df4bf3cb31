import { assertNever, type FieldProblem } from '@flotilla/domain';

/**
 * EndpointHealth: one webhook endpoint's circuit breaker, and the decision to disable it.
 *
 * Closed sends freely and counts consecutive failed attempts; at the threshold it opens, and no attempt
 * goes out while it is open (messages wait in their retry schedule instead of burning attempts against
 * a dead endpoint). After `openForMs` one probe is admitted (half-open); its success closes the circuit,
 * its failure opens it again. `failingSince` is the first failure with no success after it: when that
 * run has lasted longer than `disableAfterFailingMs` the endpoint is disabled, as Svix does after five
 * days, and only an operator's `reenabled` brings it back. Any success ends the run.
 */
export type EndpointHealth =
  | { readonly status: 'closed'; readonly consecutiveFailures: number; readonly failingSince: number | null }
  | { readonly status: 'open'; readonly consecutiveFailures: number; readonly failingSince: number; readonly openedAt: number }
  | { readonly status: 'half_open'; readonly consecutiveFailures: number; readonly failingSince: number; readonly probeSentAt: number }
  | { readonly status: 'disabled'; readonly failingSince: number; readonly disabledAt: number };

export const healthyEndpoint: EndpointHealth = { status: 'closed', consecutiveFailures: 0, failingSince: null };

export interface EndpointHealthSettings {
  /** Consecutive failed attempts that open the circuit. */
  readonly failureThreshold: number;
  /** How long an opened circuit refuses before it lets a probe through. */
  readonly openForMs: number;
  /** How long an endpoint may fail without a single success before it is disabled. */
  readonly disableAfterFailingMs: number;
}

export const DEFAULT_ENDPOINT_HEALTH_SETTINGS: EndpointHealthSettings = { failureThreshold: 5, openForMs: 30_000, disableAfterFailingMs: 5 * 24 * 60 * 60_000 };

export function endpointHealthSettingsProblems(settings: EndpointHealthSettings): FieldProblem[] {
  return (['failureThreshold', 'openForMs', 'disableAfterFailingMs'] as const)
    .filter((field) => !Number.isInteger(settings[field]) || settings[field] < 1)
    .map((field) => ({ field, problem: `must be a whole number of at least 1, got ${settings[field]}` }));
}

export type SendDecision =
  /** `state` is what to store before sending: it differs from the input when this attempt is the probe. */
  | { readonly kind: 'send'; readonly probe: boolean; readonly state: EndpointHealth }
  /** The circuit is open, or its probe is out: try again at `untilMs`. */
  | { readonly kind: 'wait'; readonly untilMs: number }
  | { readonly kind: 'disabled' };

/**
 * Whether an attempt may go out now. Admitting the probe is a change of state (open → half-open), so the
 * answer carries the state to store; storing it with the usual version check is what keeps two workers
 * from both taking the probe.
 */
export function canSend(state: EndpointHealth, now: number, settings: EndpointHealthSettings): SendDecision {
  switch (state.status) {
    case 'closed':
      return { kind: 'send', probe: false, state };
    case 'open':
      if (now < state.openedAt + settings.openForMs) return { kind: 'wait', untilMs: state.openedAt + settings.openForMs };
      return { kind: 'send', probe: true, state: { status: 'half_open', consecutiveFailures: state.consecutiveFailures, failingSince: state.failingSince, probeSentAt: now } };
    case 'half_open':
      // A probe whose outcome never arrives (its worker died) must not hold the circuit half-open for
      // ever: after another openForMs, the next attempt becomes the probe.
      if (now < state.probeSentAt + settings.openForMs) return { kind: 'wait', untilMs: state.probeSentAt + settings.openForMs };
      return { kind: 'send', probe: true, state: { ...state, probeSentAt: now } };
    case 'disabled':
      return { kind: 'disabled' };
    default:
      return assertNever(state, 'endpoint health');
  }
}

export type SuccessOutcome =
  | { readonly kind: 'healthy'; readonly state: EndpointHealth }
  /** The circuit had opened and closes now: worth an event and a resolved alert. */
  | { readonly kind: 'recovered'; readonly state: EndpointHealth; readonly failedForMs: number }
  | { readonly kind: 'disabled' };

export function onSuccess(state: EndpointHealth, now: number): SuccessOutcome {
  switch (state.status) {
    case 'closed':
      return { kind: 'healthy', state: healthyEndpoint };
    // A success while open comes from an attempt sent before the circuit opened. It still proves the
    // endpoint answers, so the run of failures is over.
    case 'open':
    case 'half_open':
      return { kind: 'recovered', state: healthyEndpoint, failedForMs: now - state.failingSince };
    case 'disabled':
      // An attempt that was in flight when the endpoint was disabled does not re-enable it: that is the
      // operator's decision, taken with the alert in hand.
      return { kind: 'disabled' };
    default:
      return assertNever(state, 'endpoint health');
  }
}

export type FailureOutcome =
  | { readonly kind: 'failing'; readonly state: EndpointHealth }
  /** The threshold was reached, or the probe failed. */
  | { readonly kind: 'opened'; readonly state: EndpointHealth }
  /** Failing without a success for longer than allowed: the caller disables the endpoint and alerts. */
  | { readonly kind: 'disable'; readonly state: EndpointHealth; readonly failingSince: number; readonly failedForMs: number }
  | { readonly kind: 'disabled' };

export function onFailure(state: EndpointHealth, now: number, settings: EndpointHealthSettings): FailureOutcome {
  if (state.status === 'disabled') return { kind: 'disabled' };
  const failingSince = state.failingSince ?? now;
  const consecutiveFailures = state.consecutiveFailures + 1;
  if (now - failingSince > settings.disableAfterFailingMs) {
    return { kind: 'disable', state: { status: 'disabled', failingSince, disabledAt: now }, failingSince, failedForMs: now - failingSince };
  }
  switch (state.status) {
    case 'closed':
      if (consecutiveFailures < settings.failureThreshold) return { kind: 'failing', state: { status: 'closed', consecutiveFailures, failingSince } };
      return { kind: 'opened', state: { status: 'open', consecutiveFailures, failingSince, openedAt: now } };
    case 'open':
      // An attempt sent before the circuit opened, reporting late: count it, but do not push the probe back.
      return { kind: 'failing', state: { ...state, consecutiveFailures } };
    case 'half_open':
      // Taken as the probe's failure. Attempts sent before the circuit opened have all reported by now,
      // as long as the request timeout is shorter than openForMs.
      return { kind: 'opened', state: { status: 'open', consecutiveFailures, failingSince, openedAt: now } };
    default:
      return assertNever(state, 'endpoint health');
  }
}

/** An operator re-enables a disabled endpoint: it starts again with a clean record. */
export function reenabled(): EndpointHealth {
  return healthyEndpoint;
}
