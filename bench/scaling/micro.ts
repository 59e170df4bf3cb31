import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { evaluate, type EvaluationInput } from '../../services/scaler/src/decisions/domain/evaluate';
import { MAX_HISTORY_ENTRIES, type ScalingHistory } from '../../services/scaler/src/decisions/domain/scaling-history';
import { createArrivalForecaster } from '../../services/scaler/src/forecasting/domain/arrival-forecaster';
import { createPredictiveAdvisor } from '../../services/scaler/src/forecasting/domain/predictive-advisor';
import { nearestRank } from './figures';
import type { ComparedPolicy } from './policies';
import { withForecast, type RecordedEvaluation } from './replay';

/**
 * The decision engine's cost per evaluation, on the inputs a replay really produced (its snapshots and
 * the histories the engine carried from one evaluation to the next), each timed on its own.
 */
export interface Timing {
  readonly calls: number;
  /** Every timed call (calls × rounds), wall clock: includes GC pauses and the machine's other load. */
  readonly p50Us: number;
  readonly p99Us: number;
  /** Over the inputs, each input's fastest call: the engine's own cost per input, without preemption. */
  readonly bestP99Us: number;
  readonly maxHistory: number;
}

/**
 * A full collection before each timed block, so that the replays' garbage is not what the timings
 * pay for (their heap is not the scaler's); the block's own allocation still triggers its own GC.
 */
const collect: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

function time(calls: number, rounds: number, run: (i: number) => number): { p50Us: number; p99Us: number; bestP99Us: number } {
  collect();
  // Warm-up: let the JIT settle on the shapes first.
  let checksum = 0;
  for (let r = 0; r < 2; r++) for (let i = 0; i < calls; i++) checksum += run(i);
  const samples: number[] = [];
  const best = new Array<number>(calls).fill(Number.POSITIVE_INFINITY);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < calls; i++) {
      const start = process.hrtime.bigint();
      checksum += run(i);
      const us = Number(process.hrtime.bigint() - start) / 1000;
      samples.push(us);
      if (us < best[i]) best[i] = us;
    }
  }
  // The results feed a checksum, so the calls cannot be optimised away.
  if (!Number.isFinite(checksum)) throw new Error('a decision was not a number of replicas');
  samples.sort((a, b) => a - b);
  best.sort((a, b) => a - b);
  return { p50Us: nearestRank(samples, 50), p99Us: nearestRank(samples, 99), bestP99Us: nearestRank(best, 99) };
}

const historySize = (h: ScalingHistory): number => h.recommendations.length + h.scaleEvents.length;

/** evaluate() alone, over the recorded inputs. */
export function timeEvaluate(recorded: readonly RecordedEvaluation[], rounds: number): Timing {
  const inputs = recorded.map((r) => r.input);
  return { calls: inputs.length, maxHistory: Math.max(0, ...inputs.map((i) => historySize(i.history))), ...time(inputs.length, rounds, (i) => evaluate(inputs[i]).desiredReplicas) };
}

/** The predictive policy's whole decision, as the scaler makes it: the advisor's forecast, then evaluate. */
export function timePredictivePath(recorded: readonly RecordedEvaluation[], compared: ComparedPolicy, rounds: number): Timing {
  if (!compared.predictive) throw new Error(`${compared.key} is not predictive`);
  const advisor = createPredictiveAdvisor(createArrivalForecaster(compared.predictive.forecaster), compared.predictive.advisor);
  const withAdvice = recorded.filter((r) => r.advice !== null);
  const run = (i: number): number => {
    const { input, observed, advice } = withAdvice[i];
    return evaluate({ ...input, snapshot: withForecast(observed, advisor.advise(advice!)) }).desiredReplicas;
  };
  return { calls: withAdvice.length, maxHistory: Math.max(0, ...withAdvice.map((r) => historySize(r.input.history))), ...time(withAdvice.length, rounds, run) };
}

/**
 * The worst case the history's bound allows: the recorded inputs with a full history (MAX_HISTORY_ENTRIES
 * recommendations and scale events inside the windows), as evaluation every second for an hour would leave.
 */
export function timeFullHistory(recorded: readonly RecordedEvaluation[], rounds: number): Timing {
  const inputs: EvaluationInput[] = recorded.map(({ input }) => {
    const recommendations = Array.from({ length: MAX_HISTORY_ENTRIES }, (_, k) => ({ at: input.now - (MAX_HISTORY_ENTRIES - k) * 100, replicas: 1 + (k % input.policy.maxReplicas) }));
    const scaleEvents = Array.from({ length: MAX_HISTORY_ENTRIES }, (_, k) => ({ at: input.now - (MAX_HISTORY_ENTRIES - k) * 100, from: 1 + (k % 3), to: 1 + ((k + 1) % 3) }));
    return { ...input, history: { recommendations, scaleEvents, lastScale: scaleEvents[scaleEvents.length - 1] } };
  });
  return { calls: inputs.length, maxHistory: 2 * MAX_HISTORY_ENTRIES, ...time(inputs.length, rounds, (i) => evaluate(inputs[i]).desiredReplicas) };
}
