import type { TaskSpec } from '@flotilla/contracts';
import type { AdmissionPolicy } from '../../admission/domain/admission-policy';

/** Temporal's retry options, per task (agent) type. */
export interface RetryPolicy {
  readonly initialIntervalMs: number;
  readonly backoffCoefficient: number;
  readonly maximumIntervalMs: number;
  /** Attempts in all, the first included; 0 means unlimited. */
  readonly maximumAttempts: number;
  readonly nonRetryableErrorKinds: readonly string[];
}

/** Temporal's activity timeouts; 0 disables one. */
export interface TaskTimeouts {
  readonly scheduleToStartMs: number;
  readonly startToCloseMs: number;
  readonly heartbeatMs: number;
}

/** What the orchestrator is configured with: workflow DAGs per kind, and per-agent-type policies. */
export interface ExecutionSettings {
  readonly workflows: Readonly<Record<string, readonly TaskSpec[]>>;
  readonly defaultRetryPolicy: RetryPolicy;
  readonly retryPolicies: Readonly<Record<string, RetryPolicy>>;
  readonly defaultTimeouts: TaskTimeouts;
  readonly timeouts: Readonly<Record<string, TaskTimeouts>>;
  readonly admission: AdmissionPolicy;
}

export function retryPolicyFor(settings: ExecutionSettings, agentType: string): RetryPolicy {
  return settings.retryPolicies[agentType] ?? settings.defaultRetryPolicy;
}

export function timeoutsFor(settings: ExecutionSettings, agentType: string): TaskTimeouts {
  return settings.timeouts[agentType] ?? settings.defaultTimeouts;
}

/** Delay before attempt `failedAttempt + 1`: initial × coefficient^(failedAttempt − 1), capped. */
export function retryDelayMs(policy: RetryPolicy, failedAttempt: number): number {
  const delay = policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, Math.max(0, failedAttempt - 1));
  return Math.min(policy.maximumIntervalMs, Math.round(delay));
}

export type RetryDecision = { readonly retry: true; readonly nextAttempt: number; readonly delayMs: number } | { readonly retry: false; readonly why: string };

export function decideRetry(policy: RetryPolicy, failedAttempt: number, errorKind: string): RetryDecision {
  if (policy.nonRetryableErrorKinds.includes(errorKind)) return { retry: false, why: `${errorKind} is not retryable` };
  if (policy.maximumAttempts > 0 && failedAttempt >= policy.maximumAttempts) {
    return { retry: false, why: `retries exhausted after ${failedAttempt} attempt(s)` };
  }
  return { retry: true, nextAttempt: failedAttempt + 1, delayMs: retryDelayMs(policy, failedAttempt) };
}
