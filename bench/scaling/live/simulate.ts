import { evaluate } from '../../../services/scaler/src/decisions/domain/evaluate';
import type { PoolSnapshot } from '../../../services/scaler/src/decisions/domain/pool-snapshot';
import type { Figures } from '../figures';
import type { ComparedPolicy } from '../policies';
import { replay, type ReplayOptions } from '../replay';
import type { Trace } from '../trace';

/** A change of replicas the simulated scaler decided (from the replay's recorded evaluations). */
export interface SimulatedDecision {
  /** From the trace's time zero. */
  readonly atMs: number;
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  readonly snapshot: PoolSnapshot;
}

export interface SimulatedRuns {
  readonly runs: readonly Figures[];
  /** The first seed's replica changes, for a side by side with the live decisions. */
  readonly firstSeedDecisions: readonly SimulatedDecision[];
}

/**
 * The simulation (replay.ts, unchanged) of `trace` under `compared`, once per seed; `serviceMs(seed)`
 * gives each task's service time for that seed. The pool is the partitioned one (the platform's
 * consumer group: pool-simulation.ts) unless `options.queue` says 'shared'. The first seed also keeps
 * its evaluations, and its replica changes are recovered by evaluating them again (evaluate is pure:
 * the same input gives the same decision the replay acted on).
 */
export function simulate(trace: Trace, compared: ComparedPolicy, options: Omit<ReplayOptions, 'seed' | 'keepInputs'>, seeds: readonly number[], serviceMs: (seed: number) => Float64Array): SimulatedRuns {
  const runs: Figures[] = [];
  let firstSeedDecisions: SimulatedDecision[] = [];
  seeds.forEach((seed, i) => {
    const result = replay(trace, compared, { ...options, queue: options.queue ?? 'partitioned', seed, keepInputs: i === 0 }, serviceMs(seed));
    runs.push(result.figures);
    if (i === 0) {
      firstSeedDecisions = result.inputs.flatMap(({ input }) => {
        const decision = evaluate(input);
        return decision.desiredReplicas === input.currentReplicas ? [] : [{ atMs: input.now, currentReplicas: input.currentReplicas, desiredReplicas: decision.desiredReplicas, snapshot: input.snapshot }];
      });
    }
  });
  return { runs, firstSeedDecisions };
}
