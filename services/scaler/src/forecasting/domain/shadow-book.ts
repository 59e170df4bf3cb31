import { assertNever } from '@flotilla/domain';
import type { ArrivalForecasterState } from './forecaster-state';
import type { PredictiveAdvisor, ShadowOutcome, ShadowRecord } from './predictive-advisor';

/**
 * A pool's forecast-only tally (pure): the shadow records still waiting for their window to pass, and
 * what the scored ones showed. Forecast-only mode exists to answer one question before ops switch a
 * pool to forecast_and_scale: would the forecast have been ready for the load when the reactive path
 * was not, and how far off was it? The tally answers it in numbers, carried with each recorded
 * decision.
 *
 * One record per forecaster step is kept (the first evaluation in a step): evaluations every 15 s
 * over one-minute steps would otherwise score four nearly identical records. The book is bounded:
 * at most MAX_PENDING records wait (a window is at most the horizon long, so at the default 15 min
 * and one-minute steps about 16 wait), and the peak errors kept for the median are the last
 * MAX_ERRORS.
 */
export interface ShadowBook {
  readonly pending: readonly ShadowRecord[];
  readonly tally: ShadowTally;
}

export interface ShadowTally {
  readonly scored: number;
  /** Scored records whose forecast would have been used (the others said why not). */
  readonly forecastUsable: number;
  /** Of those, how many would have covered the actual peak of their window. */
  readonly forecastCovered: number;
  /** Of all scored, how many the reactive path's rate at the time would have covered. */
  readonly reactiveCovered: number;
  /** Records whose window left the forecaster's history before they could be scored. */
  readonly unavailable: number;
  /** The latest peak errors, per cent, oldest first. */
  readonly peakErrorsPct: readonly number[];
  readonly lastScoredAt: number | null;
}

export interface ShadowSummary {
  readonly scored: number;
  readonly pending: number;
  readonly unavailable: number;
  /** Per cent of the scored records whose forecast was usable and covered the peak; null before any was usable. */
  readonly forecastCoveredPct: number | null;
  /** Per cent of the scored records the reactive rate would have covered; null before any was scored. */
  readonly reactiveCoveredPct: number | null;
  readonly medianPeakErrorPct: number | null;
  readonly lastScoredAt: number | null;
}

export const MAX_PENDING = 64;
export const MAX_ERRORS = 100;

export const EMPTY_SHADOW_BOOK: ShadowBook = {
  pending: [],
  tally: { scored: 0, forecastUsable: 0, forecastCovered: 0, reactiveCovered: 0, unavailable: 0, peakErrorsPct: [], lastScoredAt: null },
};

/** The book with `record` waiting, unless a record of the same step already waits; the oldest goes past MAX_PENDING. */
export function addShadow(book: ShadowBook, record: ShadowRecord, stepMs: number): ShadowBook {
  const step = Math.floor(record.decidedAt / stepMs);
  if (book.pending.some((p) => Math.floor(p.decidedAt / stepMs) === step)) return book;
  const pending = [...book.pending, record];
  return { ...book, pending: pending.length > MAX_PENDING ? pending.slice(pending.length - MAX_PENDING) : pending };
}

/** Scores every waiting record whose window has passed (or can no longer be scored) against the forecaster's observed steps. */
export function scoreShadows(book: ShadowBook, score: PredictiveAdvisor['scoreShadow'], forecaster: ArrivalForecasterState, now: number): ShadowBook {
  let tally = book.tally;
  const pending: ShadowRecord[] = [];
  for (const record of book.pending) {
    const outcome: ShadowOutcome = score(record, forecaster);
    switch (outcome.status) {
      case 'pending':
        pending.push(record);
        break;
      case 'unavailable':
        tally = { ...tally, unavailable: tally.unavailable + 1 };
        break;
      case 'scored': {
        const usable = outcome.forecastWouldHaveCovered !== null;
        const errors = usable ? [...tally.peakErrorsPct, outcome.peakErrorPct].slice(-MAX_ERRORS) : tally.peakErrorsPct;
        tally = {
          ...tally,
          scored: tally.scored + 1,
          forecastUsable: tally.forecastUsable + (usable ? 1 : 0),
          forecastCovered: tally.forecastCovered + (outcome.forecastWouldHaveCovered === true ? 1 : 0),
          reactiveCovered: tally.reactiveCovered + (outcome.reactiveWouldHaveCovered ? 1 : 0),
          peakErrorsPct: errors,
          lastScoredAt: now,
        };
        break;
      }
      default:
        return assertNever(outcome, 'shadow outcome');
    }
  }
  return pending.length === book.pending.length && tally === book.tally ? book : { pending, tally };
}

export function summarizeShadows(book: ShadowBook): ShadowSummary {
  const { tally } = book;
  const pct = (part: number, whole: number): number | null => (whole === 0 ? null : Math.round((1000 * part) / whole) / 10);
  return {
    scored: tally.scored,
    pending: book.pending.length,
    unavailable: tally.unavailable,
    forecastCoveredPct: tally.forecastUsable === 0 ? null : pct(tally.forecastCovered, tally.scored),
    reactiveCoveredPct: pct(tally.reactiveCovered, tally.scored),
    medianPeakErrorPct: median(tally.peakErrorsPct),
    lastScoredAt: tally.lastScoredAt,
  };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const value = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return Math.round(value * 10) / 10;
}
