import type { FieldProblem } from '@flotilla/domain';

/**
 * When a delivery is attempted: entry i is the wait before attempt i + 1, counted from the end of the
 * attempt before it (the first entry from the moment the message is accepted). A message whose last
 * entry has been used up is exhausted. Delays are milliseconds.
 */
export type RetrySchedule = readonly number[];

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * Svix's schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): eight attempts over about
 * 27.5 hours, dense at first for blips and sparse later for outages. The Standard Webhooks specification
 * suggests a similar curve.
 */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = [0, 5 * SECOND_MS, 5 * MINUTE_MS, 30 * MINUTE_MS, 2 * HOUR_MS, 5 * HOUR_MS, 10 * HOUR_MS, 10 * HOUR_MS];

export const DEFAULT_JITTER_RATIO = 0.2;

export type NextAttempt = { readonly kind: 'retry'; readonly delayMs: number } | { readonly kind: 'exhausted' };

/**
 * The wait before the next attempt after `attemptsMade` attempts, spread uniformly over ±jitterRatio of
 * the scheduled delay by `random01` (the caller draws it, in [0, 1]). Without the spread every message
 * that failed in the same outage would come back at the same instant and knock the recovering endpoint
 * over again. A zero delay stays zero: the first attempt is immediate.
 */
export function nextAttemptDelayMs(schedule: RetrySchedule, attemptsMade: number, random01: number, jitterRatio = DEFAULT_JITTER_RATIO): NextAttempt {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 0) throw new RangeError(`attemptsMade must be a whole number of at least 0, got ${attemptsMade}`);
  if (!(random01 >= 0 && random01 <= 1)) throw new RangeError(`random01 must lie in [0, 1], got ${random01}`);
  // Above 1 the low end of the spread would be negative.
  if (!(jitterRatio >= 0 && jitterRatio <= 1)) throw new RangeError(`jitterRatio must lie in [0, 1], got ${jitterRatio}`);
  if (attemptsMade >= schedule.length) return { kind: 'exhausted' };
  const scheduled = schedule[attemptsMade];
  const factor = 1 + jitterRatio * (2 * random01 - 1);
  return { kind: 'retry', delayMs: Math.max(0, Math.round(scheduled * factor)) };
}

const UNIT_MS = { ms: 1, s: SECOND_MS, m: MINUTE_MS, h: HOUR_MS, d: 24 * HOUR_MS } as const;

/**
 * Reads a schedule such as `0,5s,5m,30m,2h,5h,10h,10h` (units ms, s, m, h, d; a bare `0` needs none).
 * Each problem names the entry (1-based) under `field`, so a configuration error points at the variable
 * and the entry to fix.
 */
export type ParsedRetrySchedule = { readonly ok: true; readonly schedule: RetrySchedule } | { readonly ok: false; readonly problems: readonly FieldProblem[] };

export function parseRetrySchedule(text: string, field = 'retrySchedule'): ParsedRetrySchedule {
  if (text.trim() === '') return { ok: false, problems: [{ field, problem: 'the schedule is empty: give at least one delay, e.g. 0,5s,5m' }] };
  const problems: FieldProblem[] = [];
  const schedule: number[] = [];
  text.split(',').forEach((raw, index) => {
    const entry = raw.trim();
    const match = /^(\d+)(ms|s|m|h|d)?$/.exec(entry);
    const delayMs = match && (match[2] ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : Number(match[1]) === 0 ? 0 : null);
    if (delayMs === null || !Number.isSafeInteger(delayMs)) {
      problems.push({ field: `${field}[${index + 1}]`, problem: `${JSON.stringify(entry)} is not a delay: write a whole number with a unit (ms, s, m, h, d), or 0` });
    } else {
      schedule.push(delayMs);
    }
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, schedule };
}

/** The schedule `factor` times faster, so a test can walk a whole schedule in moments. */
export function compress(schedule: RetrySchedule, factor: number): RetrySchedule {
  if (!(Number.isFinite(factor) && factor > 0)) throw new RangeError(`factor must be a positive number, got ${factor}`);
  return schedule.map((delayMs) => Math.round(delayMs / factor));
}
